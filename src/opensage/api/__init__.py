"""Wire adapters: each protocol parsed at the edge, one service call, the result rendered."""
