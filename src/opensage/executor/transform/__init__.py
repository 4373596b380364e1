"""The transform job process's parts: its spec, its inputs, its model servers and the requests it sends them."""
