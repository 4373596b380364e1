"""Peer servers the benchmarks compare opensage against."""
