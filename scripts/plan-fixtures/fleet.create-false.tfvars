# Plan check only (scripts/plan_check.py, VARIANTS): the fleet module's create toggle off plans nothing.
create = false
