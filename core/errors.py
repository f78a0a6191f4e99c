"""Exceptions raised by rtpath. Every error the project raises derives from `RtpathError`."""


class RtpathError(Exception):
    """Root of every error rtpath raises on purpose."""


class ConfigError(RtpathError):
    """A setting or command-line value is invalid."""


class ArtifactError(RtpathError):
    """A pinned artifact is missing, cannot be downloaded or fails verification."""


class ChecksumError(ArtifactError):
    """A downloaded file does not match its pinned SHA-256 digest."""

    def __init__(self, path: str, expected: str, actual: str) -> None:
        super().__init__(
            f"checksum mismatch for {path}: expected sha256 {expected}, got {actual}; "
            "the file was deleted, run `rtpath stack fetch` again"
        )
        self.path = path
        self.expected = expected
        self.actual = actual


class JavaError(RtpathError):
    """Java is missing or older than the version the services need."""


class BrokerError(RtpathError):
    """The local Kafka broker failed to start, stop or respond."""


class JobError(RtpathError):
    """A Flink job failed to start, failed while running or could not be stopped."""
