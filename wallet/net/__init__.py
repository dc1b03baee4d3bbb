"""The only I/O layer: asyncio drivers, ILP-over-HTTP and BTP uplinks, SPSP."""
