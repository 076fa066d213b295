import pytest

from bot.notify.render import Renderer, make_environment


@pytest.fixture(scope="session")
def renderer() -> Renderer:
    return Renderer(make_environment())
