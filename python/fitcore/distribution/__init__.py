"""Data-parallel training over MPI (`pip install "fitcore[mpi]"`, launched with `mpiexec -n K`).

`mpi.world_collective()` gives the core its cross-process sum over the MPI library mpi4py loaded;
the per-step gradient allreduce in the trainer builds on it.
"""
