"""The one exception tree of opensage, with the AWS error code and HTTP status each error is sent as.

Every layer raises these; every wire adapter renders them once, in its protocol's shape
(``__type`` + ``message`` for JSON protocols, ``<Error><Code>`` for S3, a JSON error for the
native API). Messages say what was wrong and what would be right; they never echo payloads
or secrets.

    OpenSageError
    ├── ValidationError                 ValidationException 400
    │   ├── SerializationError          SerializationException 400
    │   ├── UnsupportedOperationError   UnknownOperationException 400
    │   ├── InvalidParameterError       InvalidParameterException 400 (CloudWatch Logs)
    │   ├── InvocationValidationError   ValidationError 400 (sagemaker-runtime)
    │   ├── InvalidLookupAttributesError, InvalidTimeRangeError, InvalidNextTokenError  (CloudTrail's codes)
    │   ├── MalformedPolicyDocumentError  MalformedPolicyDocument 400
    │   ├── ArchiveError                ValidationException 400 (a user's tar that cannot be unpacked safely)
    │   ├── RequestTooLargeError        ValidationException 413 (a body over the API's limit)
    │   └── JobNotFoundError            ValidationException 400  "Requested resource not found."
    ├── NotFoundError                   ResourceNotFound 400
    │   └── LogResourceNotFoundError    ResourceNotFoundException 400
    ├── AlreadyExistsError              ResourceInUse 400  ("... already exists")
    │   └── LogResourceAlreadyExistsError  ResourceAlreadyExistsException 400
    ├── ResourceInUseError              ResourceInUse 400
    ├── ConflictError                   ConflictException 409
    ├── LimitExceededError              ResourceLimitExceeded 400
    ├── AccessDeniedError               AccessDeniedException 400
    ├── ThrottlingError                 ThrottlingException 400
    ├── InternalError                   InternalFailure 500
    ├── ModelInvocationError            ModelError 424 (with OriginalStatusCode, OriginalMessage)
    ├── ServiceUnavailableError         ServiceUnavailable 503
    ├── KmsError                        (KMS's own codes, 400; S3 reports them as KMS.<code>)
    │   ├── KmsNotFoundError            NotFoundException
    │   ├── KmsDisabledError            DisabledException
    │   ├── KmsInvalidStateError        KMSInvalidStateException
    │   ├── KmsInvalidCiphertextError   InvalidCiphertextException
    │   ├── KmsIncorrectKeyError        IncorrectKeyException
    │   └── KmsAlreadyExistsError       AlreadyExistsException
    └── S3Error                         (S3's own codes, below)
        ├── NoSuchBucket 404, NoSuchKey 404, NoSuchUpload 404
        ├── BucketAlreadyOwnedByYou 409, BucketNotEmpty 409
        ├── InvalidBucketName 400, InvalidArgument 400, InvalidRequest 400, InvalidRange 416
        ├── BadDigest 400, InvalidDigest 400, InvalidPart 400, InvalidPartOrder 400
        ├── EntityTooSmall 400, MalformedXML 400, KeyTooLong 400, IncompleteBody 400
        ├── EntityTooLarge 400, MaxMessageLengthExceeded 400, SlowDown 503
        ├── MethodNotAllowed 405
        ├── ObjectPathConflict 409 (a key that is a folder of other keys on the local disk)
        ├── PreconditionFailed 412, NotImplemented 501
        ├── AccessDenied 403 (a policy does not allow the call)
        └── XAmzContentSHA256Mismatch 400
    AuthenticationError                 403; codes per protocol: JSON / S3 / query
    ├── MissingAuthenticationError      MissingAuthenticationTokenException / AccessDenied
    ├── UnknownAccessKeyError           UnrecognizedClientException / InvalidAccessKeyId
    ├── SignatureMismatchError          InvalidSignatureException / SignatureDoesNotMatch
    ├── SignatureExpiredError           InvalidSignatureException / RequestTimeTooSkewed
    │   └── PresignedUrlExpiredError    InvalidSignatureException / AccessDenied
    └── MalformedAuthorizationError     IncompleteSignatureException / AuthorizationHeaderMalformed 400
"""

from __future__ import annotations


class OpenSageError(Exception):
    """Base of every error opensage reports to a client."""

    code: str = "InternalFailure"
    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SealingError(OpenSageError):
    """A sealed secret does not open: the wrong master key, the wrong context, or damaged bytes."""


class ValidationError(OpenSageError):
    """The request is malformed or asks for something that cannot be done as asked."""

    code = "ValidationException"
    http_status = 400


class SerializationError(ValidationError):
    """A JSON body that does not parse; AWS's code for it."""

    code = "SerializationException"


class UnsupportedOperationError(ValidationError):
    """An operation opensage does not implement yet; never answered with a canned success."""

    code = "UnknownOperationException"


class ArchiveError(ValidationError):
    """A user's archive (model.tar.gz, sourcedir.tar.gz) that is not a tar or cannot be unpacked safely."""


class RequestTooLargeError(ValidationError):
    """A request body over its API's limit, refused before it is read (JSON and runtime APIs)."""

    http_status = 413


class JobNotFoundError(ValidationError):
    """A missing training, processing or transform job.

    AWS answers these with ValidationException, and the botocore waiters rely on that code.
    """


class NotFoundError(OpenSageError):
    code = "ResourceNotFound"
    http_status = 400


class LogResourceNotFoundError(NotFoundError):
    """CloudWatch Logs' spelling of a missing log group or stream."""

    code = "ResourceNotFoundException"


class InvalidParameterError(ValidationError):
    """CloudWatch Logs' spelling of a bad request value."""

    code = "InvalidParameterException"


class AlreadyExistsError(OpenSageError):
    """A create named a resource that exists; the SDKs look for "already exists" in the message."""

    code = "ResourceInUse"
    http_status = 400


class LogResourceAlreadyExistsError(AlreadyExistsError):
    """CloudWatch Logs' spelling of a log group or stream that already exists."""

    code = "ResourceAlreadyExistsException"


class ResourceInUseError(OpenSageError):
    code = "ResourceInUse"
    http_status = 400


class ConflictError(OpenSageError):
    code = "ConflictException"
    http_status = 409


class LimitExceededError(OpenSageError):
    code = "ResourceLimitExceeded"
    http_status = 400


class AccessDeniedError(OpenSageError):
    """A policy does not allow the call (JSON services; SageMaker's common errors list it as 400)."""

    code = "AccessDeniedException"
    http_status = 400


class MalformedPolicyDocumentError(ValidationError):
    """An IAM-style policy that does not parse or uses what opensage cannot evaluate."""

    code = "MalformedPolicyDocument"


class ThrottlingError(OpenSageError):
    code = "ThrottlingException"
    http_status = 400


class InternalError(OpenSageError):
    code = "InternalFailure"
    http_status = 500


# --- sagemaker-runtime ------------------------------------------------------------------------


class InvalidLookupAttributesError(ValidationError):
    """CloudTrail LookupEvents: an attribute that cannot be looked up by (or more than one)."""

    code = "InvalidLookupAttributesException"


class InvalidTimeRangeError(ValidationError):
    """CloudTrail LookupEvents: a StartTime after the EndTime."""

    code = "InvalidTimeRangeException"


class InvalidNextTokenError(ValidationError):
    """CloudTrail LookupEvents: a NextToken that is damaged or was issued for other criteria."""

    code = "InvalidNextTokenException"


class InvocationValidationError(ValidationError):
    """The runtime API's spelling of a bad request (a missing endpoint, an unknown variant, ...)."""

    code = "ValidationError"


class ModelInvocationError(OpenSageError):
    """The model answered with an error; the client gets ModelError with what the model said."""

    code = "ModelError"
    http_status = 424

    def __init__(self, message: str, original_status_code: int, original_message: str) -> None:
        super().__init__(message)
        self.original_status_code = original_status_code
        self.original_message = original_message


class ServiceUnavailableError(OpenSageError):
    code = "ServiceUnavailable"
    http_status = 503


# --- KMS --------------------------------------------------------------------------------------


class KmsError(OpenSageError):
    """A KMS key cannot do what was asked; S3 and the jobs report the same error as ``KMS.<code>``."""

    code = "KMSInternalException"
    http_status = 400


class KmsNotFoundError(KmsError):
    code = "NotFoundException"


class KmsDisabledError(KmsError):
    code = "DisabledException"


class KmsInvalidStateError(KmsError):
    code = "KMSInvalidStateException"


class KmsInvalidCiphertextError(KmsError):
    code = "InvalidCiphertextException"


class KmsIncorrectKeyError(KmsError):
    code = "IncorrectKeyException"


class KmsAlreadyExistsError(KmsError):
    code = "AlreadyExistsException"


# --- S3 ---------------------------------------------------------------------------------------


class S3Error(OpenSageError):
    """Errors of the object store; their codes are S3's own."""

    code = "InvalidRequest"
    http_status = 400


class NoSuchBucket(S3Error):
    code = "NoSuchBucket"
    http_status = 404


class NoSuchKey(S3Error):
    code = "NoSuchKey"
    http_status = 404


class NoSuchUpload(S3Error):
    code = "NoSuchUpload"
    http_status = 404


class BucketAlreadyOwnedByYou(S3Error):
    code = "BucketAlreadyOwnedByYou"
    http_status = 409


class BucketNotEmpty(S3Error):
    code = "BucketNotEmpty"
    http_status = 409


class InvalidBucketName(S3Error):
    code = "InvalidBucketName"


class InvalidArgument(S3Error):
    code = "InvalidArgument"


class InvalidRequest(S3Error):
    code = "InvalidRequest"


class InvalidRange(S3Error):
    code = "InvalidRange"
    http_status = 416


class BadDigest(S3Error):
    """A body whose Content-MD5 or x-amz-checksum-* does not match what arrived."""

    code = "BadDigest"


class InvalidDigest(S3Error):
    code = "InvalidDigest"


class InvalidPart(S3Error):
    code = "InvalidPart"


class InvalidPartOrder(S3Error):
    code = "InvalidPartOrder"


class EntityTooSmall(S3Error):
    code = "EntityTooSmall"


class MalformedXML(S3Error):
    code = "MalformedXML"


class MethodNotAllowed(S3Error):
    """An HTTP method no S3 operation uses on that kind of resource (bucket, object)."""

    code = "MethodNotAllowed"
    http_status = 405


class IncompleteBody(S3Error):
    """Fewer body bytes arrived than the request announced."""

    code = "IncompleteBody"


class EntityTooLarge(S3Error):
    """An object body (PutObject, UploadPart) over S3's 5 GiB limit."""

    code = "EntityTooLarge"


class MaxMessageLengthExceeded(S3Error):
    """A request body other than an object's (XML documents) over its limit."""

    code = "MaxMessageLengthExceeded"


class SlowDown(S3Error):
    """Too many requests in flight; S3's spelling of ThrottlingException (botocore retries it)."""

    code = "SlowDown"
    http_status = 503


class KeyTooLong(S3Error):
    code = "KeyTooLongError"


class ObjectPathConflict(S3Error):
    """The local store keeps ``a/b`` as a file in folder ``a``, so ``a`` and ``a/b`` cannot both exist."""

    code = "ObjectPathConflict"
    http_status = 409


class PreconditionFailed(S3Error):
    code = "PreconditionFailed"
    http_status = 412


class ServerSideEncryptionConfigurationNotFound(S3Error):
    code = "ServerSideEncryptionConfigurationNotFoundError"
    http_status = 404


class S3NotImplemented(S3Error):
    code = "NotImplemented"
    http_status = 501


class XAmzContentSHA256Mismatch(S3Error):
    """A signed payload whose bytes do not hash to the x-amz-content-sha256 it was signed with."""

    code = "XAmzContentSHA256Mismatch"


# --- authentication ---------------------------------------------------------------------------


class AuthenticationError(OpenSageError):
    """A request that is not signed, or not signed by a key this platform knows; never processed.

    Each protocol names the same failure differently: ``code`` is the JSON protocols' (sagemaker,
    logs, runtime, kms), ``s3_code`` S3's and ``query_code`` the query protocol's (sts, iam).
    """

    code = "InvalidSignatureException"
    s3_code = "SignatureDoesNotMatch"
    query_code = "SignatureDoesNotMatch"
    http_status = 403


class MissingAuthenticationError(AuthenticationError):
    code = "MissingAuthenticationTokenException"
    s3_code = "AccessDenied"
    query_code = "MissingAuthenticationToken"


class UnknownAccessKeyError(AuthenticationError):
    """An access key id that does not exist or is no longer active."""

    code = "UnrecognizedClientException"
    s3_code = "InvalidAccessKeyId"
    query_code = "InvalidClientTokenId"


class SignatureMismatchError(AuthenticationError):
    pass


class SignatureExpiredError(AuthenticationError):
    """Signed too long ago (or in the future): the 15-minute skew, or a presigned URL past its expiry."""

    s3_code = "RequestTimeTooSkewed"


class PresignedUrlExpiredError(SignatureExpiredError):
    s3_code = "AccessDenied"


class MalformedAuthorizationError(AuthenticationError):
    code = "IncompleteSignatureException"
    s3_code = "AuthorizationHeaderMalformed"
    query_code = "IncompleteSignature"
    http_status = 400


class S3AccessDenied(S3Error):
    """A policy does not allow the S3 call; S3's spelling of AccessDeniedException."""

    code = "AccessDenied"
    http_status = 403


# --- inside a job -----------------------------------------------------------------------------


class AlgorithmClientError(Exception):
    """A job failed because of its input (data, hyperparameters); reported as "ClientError: ...".

    Not an OpenSageError: it never crosses the wire, it becomes a job's FailureReason.
    """


class AlgorithmError(Exception):
    """A job failed inside the algorithm; reported as "AlgorithmError: ..."."""


class InferenceError(Exception):
    """A model server could not answer a request; it responds with ``status_code`` and the message.

    The platform passes it on as SageMaker does: InvokeEndpoint raises ModelError (424) with
    OriginalStatusCode and OriginalMessage; a transform job fails naming the record.
    """

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
