#pragma once
// Sums over the processes of a data-parallel run. The MPI library is the one the Python side (mpi4py)
// has already loaded, bound at run time by its path: building fitcore needs no MPI, and one binary
// serves MPICH (integer handles) and Open MPI (pointer handles) alike.
#include <cstdint>
#include <string>
#include <vector>

namespace fitcore {

// MPI's handles as mpi4py's MPI._handleof gives them, and their size (MPI._sizeof(MPI.Comm)).
struct MpiHandles {
  int64_t comm = 0;
  int64_t float_type = 0;
  int64_t double_type = 0;
  int64_t sum_op = 0;
  int handle_bytes = 4;  // 4: MPICH's ints; 8: Open MPI's pointers
  int64_t in_place = 0;  // the library's MPI_IN_PLACE address (MPICH: -1, Open MPI: 1); 0: unknown
};

class Collective {
 public:
  // Binds MPI_Allreduce of the library at `library`, which must be loaded already (never a second MPI).
  Collective(const std::string& library, MpiHandles handles, int rank, int size);

  int rank() const { return rank_; }
  int size() const { return size_; }

  // Every rank's data becomes the element-wise sum over all ranks. For a fixed number of ranks the
  // reduction order is fixed, so a run repeats bit for bit.
  void sum(float* data, int64_t n);
  void sum(double* data, int64_t n);

 private:
  template <typename T>
  void allreduce(T* data, int64_t n, int64_t type, std::vector<T>& send);

  void* allreduce_ = nullptr;  // MPI_Allreduce
  MpiHandles handles_;
  int rank_ = 0, size_ = 1;
  std::vector<float> send_float_;  // a send copy where MPI_IN_PLACE is unknown (it differs between libraries)
  std::vector<double> send_double_;
};

}  // namespace fitcore
