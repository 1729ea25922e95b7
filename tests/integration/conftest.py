import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from vigil import Agent, Manager  # noqa: E402


@pytest.fixture
def manager(tmp_path):
    m = Manager(tmp_path).start()
    yield m
    rc = m.stop()
    assert rc in (0, None), "vigil-manager exited with %s:\n%s" % (rc, m.logs()[-3000:])


@pytest.fixture
def agents(tmp_path, manager):
    started = []

    def make(name, activate=True):
        a = Agent(manager, tmp_path, name).start()
        if activate:
            a.activate()
        started.append(a)
        return a

    yield make
    for a in started:
        a.stop()
