from tests.fakezulip.fixtures import fake_zulip  # noqa: F401
