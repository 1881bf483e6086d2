"""What tests share: processes, servers, scenes, waits and the data in ../shared. Benchmarks use them too."""
