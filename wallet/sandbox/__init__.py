"""The sandbox: an embedded Interledger network with play money and bundled demo sites.

It is what Trickle runs on when no uplink is configured, so a first launch already streams
money to a page you can watch. Nothing here touches the real network: the connector is
in-process (:mod:`wallet.sandbox.network`), the demo sites listen on 127.0.0.1 only
(:mod:`wallet.sandbox.demo`).
"""

from wallet.sandbox.demo import DemoSite, DemoSites, start_demo_sites
from wallet.sandbox.network import SANDBOX_ADDRESS, SandboxNetwork

__all__ = ["SANDBOX_ADDRESS", "DemoSite", "DemoSites", "SandboxNetwork", "start_demo_sites"]
