"""Episodes on disk: recorded episodes (HDF5 datasets of demonstrations, DAgger rollouts and
pseudo-labelled clips), the fixed evaluation episode sets, and the GNM export."""
