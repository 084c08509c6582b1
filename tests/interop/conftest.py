"""Fixtures of the interoperability tests.

- `stack`: one gateway (embedded core) and one Node `smpp` carrier SMSC, shared by the tests of
  the normal path; each test uses its own addresses and texts, so they do not see each other.
- `gateway_factory`, `node_smsc_factory`: processes a test starts and stops itself (restart and
  core-down tests); all are stopped at teardown.
- `partner_factory`: smpplib ESME sessions, unbound and closed at teardown.

When a test fails, the gateway's log tail is appended to the report.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable, Iterator

import pytest

from smpp_helpers import Gateway, NodeSmsc, Partner, free_port, wait_for

# smpplib warns about its own future behaviour when allow_unknown_opt_params is not given; we
# always give it, but its module-level imports may still warn.
warnings.filterwarnings("ignore", category=DeprecationWarning, module="smpplib")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for gw in getattr(item, "_gateways", []):
            report.sections.append((f"smppgw log ({gw.log_path})", gw.log_tail(80)))
        for smsc in getattr(item, "_smscs", []):
            report.sections.append(("Node SMSC events", "\n".join(map(str, smsc.snapshot()[-30:]))))


class Stack:
    """A running gateway with its carrier."""

    def __init__(self, gateway: Gateway, smsc: NodeSmsc):
        self.gateway = gateway
        self.smsc = smsc


@pytest.fixture(scope="session")
def _shared_stack(tmp_path_factory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("stack")
    carrier_port = free_port()
    smsc = NodeSmsc(carrier_port)
    smsc.start()
    gateway = Gateway(workdir, carrier_port)
    try:
        gateway.start()
        wait_for(smsc.bound, 20, "the gateway's carrier bind to the Node SMSC")
        yield Stack(gateway, smsc)
    finally:
        gateway.stop()
        smsc.stop()


@pytest.fixture
def stack(request, _shared_stack: Stack) -> Stack:
    """The shared gateway and carrier, with their logs attached to this test's report on failure."""
    request.node._gateways = [_shared_stack.gateway]
    request.node._smscs = [_shared_stack.smsc]
    return _shared_stack


@pytest.fixture
def gateway_factory(request, tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    made: list[Gateway] = []
    request.node._gateways = made

    def make(carrier_port: int, **kwargs) -> Gateway:
        gw = Gateway(tmp_path / f"gw{len(made)}", carrier_port, **kwargs)
        made.append(gw)
        return gw

    yield make
    for gw in made:
        gw.stop()


@pytest.fixture
def node_smsc_factory(request) -> Iterator[Callable[..., NodeSmsc]]:
    made: list[NodeSmsc] = []
    request.node._smscs = made

    def make(port: int, **kwargs) -> NodeSmsc:
        smsc = NodeSmsc(port, **kwargs)
        made.append(smsc)
        return smsc

    yield make
    for smsc in made:
        smsc.stop()


@pytest.fixture
def partner_factory() -> Iterator[Callable[..., Partner]]:
    made: list[Partner] = []

    def make(port: int, **kwargs) -> Partner:
        p = Partner(port, **kwargs)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()
