"""Where the running control plane reads its policy: the SSM parameter, or the AppConfig hosted
configuration (the template's PolicyStore), through Powertools Parameters and its cache.

Both keep the text they last parsed: a cache refresh that brings the same text (AppConfig sends
nothing at all when the deployed version did not change) reuses the parsed policy, so a large
policy is parsed once per version, not once per refresh. The cache runs on the control plane's
clock (`aiops.clock`): offline, it expires in virtual time, as the rest of the control plane does.
Powertools Parameters is imported on the first read, never at a function's cold start.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from aiops.adapters.aws import AwsAdapter, error_code
from aiops.clock import now
from aiops.policy import Policy, parse_policy

# StartConfigurationSession's RequiredMinimumPollIntervalInSeconds: 15 to 86,400.
APPCONFIG_MIN_POLL_SECONDS = 15
APPCONFIG_MAX_POLL_SECONDS = 86_400


class PolicySource(Protocol):
    """The policy currently served; `PolicyError` (naming the source and each bad field) when it
    is invalid, the service's own error when it cannot be read."""

    def load(self) -> Policy: ...


def _on_our_clock(provider_class: type[Any]) -> type[Any]:
    """A Powertools provider whose cache expires on `aiops.clock` (Powertools reads the wall
    clock, which does not move with the offline runtime's virtual time)."""
    from aws_lambda_powertools.utilities.parameters.base import ExpirableValue

    class OnOurClock(provider_class):
        def has_not_expired_in_cache(self, key: tuple[Any, ...]) -> bool:
            return key in self.store and self.store[key].ttl >= now()

        def add_to_cache(self, key: tuple[Any, ...], value: Any, max_age: int) -> None:
            if max_age > 0:
                self.store[key] = ExpirableValue(value, now() + timedelta(seconds=max_age))

    return OnOurClock


class _CachedPolicySource(AwsAdapter):
    source: str

    def __init__(self, cache_seconds: int, client: Any | None) -> None:
        super().__init__(client)
        self.cache_seconds = cache_seconds
        self._provider: Any = None
        self._parsed: tuple[str | bytes, Policy] | None = None

    def _fetch(self) -> str | bytes:
        raise NotImplementedError

    def load(self) -> Policy:
        from aws_lambda_powertools.utilities.parameters import GetParameterError

        try:
            text = self._fetch()
        except GetParameterError as error:
            # Powertools wraps the SDK's error in its own: callers (and Lambda's error report)
            # see the service's, with its code (ParameterNotFound, ResourceNotFoundException).
            cause = error.__context__
            if isinstance(cause, Exception):
                raise cause from None
            raise
        if self._parsed is not None and self._parsed[0] == text:
            return self._parsed[1]
        policy = parse_policy(text, source=self.source)
        self._parsed = (text, policy)
        return policy


class SsmPolicySource(_CachedPolicySource):
    """The policy YAML in an SSM parameter (PolicyStore ssm; 8 KB at most)."""

    service = "ssm"

    def __init__(self, parameter: str, cache_seconds: int = 60, client: Any | None = None) -> None:
        super().__init__(cache_seconds, client)
        self.parameter = parameter
        self.source = f"ssm:{parameter}"

    def _fetch(self) -> str | bytes:
        if self._provider is None:
            from aws_lambda_powertools.utilities.parameters import SSMProvider

            self._provider = _on_our_clock(SSMProvider)(boto3_client=self.client)
        return self._provider.get(self.parameter, max_age=self.cache_seconds)


class AppConfigPolicySource(_CachedPolicySource):
    """The policy deployed to an AppConfig environment (PolicyStore appconfig; 1 MB at most).

    AppConfig refuses a session polled more often than its minimum interval (15 seconds at
    least): the cache lasts at least that long, except with `cache_seconds=0` (one read, as the
    CLI makes)."""

    service = "appconfigdata"

    def __init__(
        self,
        application: str,
        environment: str,
        profile: str,
        cache_seconds: int = 60,
        client: Any | None = None,
    ) -> None:
        if cache_seconds:
            cache_seconds = min(
                max(cache_seconds, APPCONFIG_MIN_POLL_SECONDS), APPCONFIG_MAX_POLL_SECONDS
            )
        super().__init__(cache_seconds, client)
        self.application = application
        self.environment = environment
        self.profile = profile
        self.source = f"appconfig:{application}/{environment}/{profile}"

    def _fetch(self) -> str | bytes:
        if self._provider is None:
            from aws_lambda_powertools.utilities.parameters import AppConfigProvider

            self._provider = _on_our_clock(AppConfigProvider)(
                environment=self.environment,
                application=self.application,
                boto3_client=self.client,
            )
        poll = max(self.cache_seconds, APPCONFIG_MIN_POLL_SECONDS)
        try:
            return self._get(poll)
        except Exception as error:
            # A session's token lasts 24 hours: a function idle that long starts a new session
            # (Powertools would keep sending the expired token).
            cause = error.__context__ if isinstance(error.__context__, Exception) else error
            if error_code(cause) != "BadRequestException":
                raise
            self._provider._next_token.pop(self.profile, None)
            return self._get(poll)

    def _get(self, poll: int) -> bytes:
        return self._provider.get(
            self.profile,
            max_age=self.cache_seconds,
            RequiredMinimumPollIntervalInSeconds=poll,
        )
