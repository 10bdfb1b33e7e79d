"""moto_server with its IAM access control usable by the AWS SDKs (run by `scripts/moto run --iam`).

moto (pinned in scripts/requirements-tools.txt) checks each request's SigV4 signature once
INITIAL_NO_AUTH_ACTION_COUNT requests have passed (moto/core/authorization.py). To recompute the
signature it rebuilds the request in moto/iam/access_control.py `IAMRequestBase._create_aws_request`
with `data=self._body or self._data`; for a request without a body (every REST GET: Route53
ListResourceRecordSets, GetChange) `self._data` is the parsed query string, or the headers when
there is none, so moto signs a made-up body and answers SignatureDoesNotMatch to a correctly
signed request. SigV4 signs the hash of the bytes sent, which is the empty string for such a
request; this wrapper rebuilds the request from the raw body only and changes nothing else
(action and policy evaluation stay moto's own).
"""

import sys

from botocore.awsrequest import AWSRequest
from moto.iam import access_control
from moto.server import main


def _create_aws_request(self):  # type: ignore[no-untyped-def]
    signed_headers = self._get_string_between(
        "SignedHeaders=", ",", self._headers["Authorization"]
    ).split(";")
    headers = self._create_headers_for_aws_request(signed_headers, self._headers)
    request = AWSRequest(
        method=self._method, url=self._path, data=self._body or b"", headers=headers
    )
    request.context["timestamp"] = headers["X-Amz-Date"]
    return request


access_control.IAMRequestBase._create_aws_request = _create_aws_request

if __name__ == "__main__":
    main(sys.argv[1:])
