"""moto_server with its IAM access control usable by the AWS SDKs (run by `scripts/moto run --iam`).

moto (pinned in scripts/requirements-tools.txt) checks each request's SigV4 signature once
INITIAL_NO_AUTH_ACTION_COUNT requests have passed (moto/core/authorization.py). To recompute the
signature it rebuilds the request in moto/iam/access_control.py `IAMRequestBase._create_aws_request`
with `data=self._body or self._data`; for a request without a body (every REST GET: Route53
ListResourceRecordSets, GetChange) `self._data` is the parsed query string, or the headers when
there is none, so moto signs a made-up body and answers SignatureDoesNotMatch to a correctly
signed request. For a form-encoded POST (Query APIs: IAM, EC2, Auto Scaling) the body it signs
is the form re-encoded by Python, which differs from the client's bytes when a value holds a
character the two encoders treat differently (`*` in a policy document). SigV4 signs the hash
of the bytes sent. This wrapper hands moto's signature check those bytes (the empty string for a
request without a body). moto also words its AccessDenied, SignatureDoesNotMatch and
InvalidClientTokenId answers as `<ErrorResponse><Errors><Error>`, which the AWS SDKs cannot read
for Query and REST-XML services (Auto Scaling, Route53: "unreadable error answer"); this wrapper
sends them in those protocols' documented shape, `<ErrorResponse><Error><Type><Code><Message>
</Error><RequestId></ErrorResponse>` (JSON services read the code from X-Amzn-ErrorType, which moto
already sets). moto names a request's action after its SigV4 credential scope
(`IAMRequestBase.__init__`: `f"{service}:{action}"`); for CloudWatch the scope says `monitoring`
while IAM's prefix is `cloudwatch` (`cloudwatch:PutMetricData`), so moto would deny every
CloudWatch call a correct policy allows: this wrapper names those actions `cloudwatch:*`.
Nothing else changes: policy evaluation stays moto's own.
"""

import sys

from xml.sax.saxutils import escape

from botocore.awsrequest import AWSRequest
from moto.core import exceptions
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.responses import BaseResponse
from moto.iam import access_control
from moto.server import main

_setup_class = BaseResponse.setup_class
_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action


def setup_class(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
    # The bytes as sent, read before werkzeug parses a form out of the stream (werkzeug then
    # parses the cached copy). moto's own raw_body is empty for a form-encoded request.
    self._signed_body = request.get_data(cache=True)
    _setup_class(self, request, *args, **kwargs)


def authorize(self, iam_request_cls, resource="*"):  # type: ignore[no-untyped-def]
    saved = self.raw_body
    signed = getattr(self, "_signed_body", None)
    if signed:
        self.raw_body = signed
    try:
        _authorize(self, iam_request_cls, resource)
    finally:
        self.raw_body = saved


def _create_aws_request(self):  # type: ignore[no-untyped-def]
    signed_headers = self._get_string_between(
        "SignedHeaders=", ",", self._headers["Authorization"]
    ).split(";")
    headers = self._create_headers_for_aws_request(signed_headers, self._headers)
    form = "x-www-form-urlencoded" in self._headers.get("Content-Type", "")
    # No body: SigV4 signs the empty string. A form whose bytes were lost: moto's own rebuild.
    body = self._body or (self._data if form else b"")
    request = AWSRequest(method=self._method, url=self._path, data=body, headers=headers)
    request.context["timestamp"] = headers["X-Amz-Date"]
    return request


# Signing names whose IAM service prefix differs (the credential scope vs the policy's Action).
IAM_PREFIX = {"monitoring": "cloudwatch"}
_request_init = access_control.IAMRequestBase.__init__


def request_init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
    _request_init(self, *args, **kwargs)
    service, _, action = self._action.partition(":")
    if service in IAM_PREFIX:
        self._action = f"{IAM_PREFIX[service]}:{action}"


def aws_error_shape(cls):  # type: ignore[no-untyped-def]
    init = cls.__init__

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        init(self, *args, **kwargs)
        self.description = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{escape(self.error_type)}</Code><Message>{escape(self.message)}</Message>"
            "</Error><RequestId>moto-iam</RequestId></ErrorResponse>"
        )

    cls.__init__ = __init__


for error in (
    exceptions.AccessDeniedError,
    exceptions.SignatureDoesNotMatchError,
    exceptions.InvalidClientTokenIdError,
):
    aws_error_shape(error)

BaseResponse.setup_class = setup_class
ActionAuthenticatorMixin._authenticate_and_authorize_action = authorize
access_control.IAMRequestBase._create_aws_request = _create_aws_request
access_control.IAMRequestBase.__init__ = request_init

if __name__ == "__main__":
    main(sys.argv[1:])
