"""What a step script raises. The runner turns each into a task state at one boundary.

    StepError
     ├── Transient            the portal is down, slow, rate-limiting or erroring: retry later
     │    ├── PortalUnavailable  the portal itself is down (maintenance page, server error): the
     │    │                      runner's breaker counts these across tasks (runner/core/breaker.py)
     │    └── SessionExpired  logged out mid-task: log in again (the runner retries the attempt)
     ├── NeedsInput           the payer says some data is wrong and a person can correct it
     │    └── FormRefused     ... said by the portal answering a form with its errors: it took
     │                        nothing, so a submit it refused was no submission
     ├── NeedsReview          a CAPTCHA, or an outcome the script cannot classify
     ├── LoginRefused         the portal refused the credentials (or locked the account)
     └── PortalChanged        an expected element never appeared: the page is not what the script knows

Business outcomes (claim rejected, member not found) are not errors: a step records them with
`StepContext.finish(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass


class StepError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Transient(StepError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PortalUnavailable(Transient):
    """The portal answered with a maintenance page or a server error: its fault, not the task's."""


class SessionExpired(Transient):
    pass


@dataclass(frozen=True)
class InputProblem:
    field: str
    message: str


class NeedsInput(StepError):
    def __init__(self, message: str, *, problems: list[InputProblem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class FormRefused(NeedsInput):
    """The portal answered the form with what is wrong instead of taking it."""


class NeedsReview(StepError):
    pass


class LoginRefused(StepError):
    def __init__(self, message: str, *, locked: bool = False) -> None:
        super().__init__(message)
        self.locked = locked


class PortalChanged(StepError):
    pass
