from tests.adapters.zulip_harness import org  # noqa: F401
from tests.fakezulip.fixtures import fake_zulip  # noqa: F401
