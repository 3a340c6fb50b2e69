#include "fitcore/collective.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <climits>
#include <stdexcept>

namespace fitcore {
namespace {

// MPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm) with the library's handle type.
template <typename Handle>
using AllreduceFn = int (*)(const void*, void*, int, Handle, Handle, Handle);

template <typename Handle>
int call(void* fn, const void* send, void* recv, int count, int64_t type, int64_t op, int64_t comm) {
  return reinterpret_cast<AllreduceFn<Handle>>(fn)(send, recv, count, static_cast<Handle>(type), static_cast<Handle>(op),
                                                   static_cast<Handle>(comm));
}

}  // namespace

Collective::Collective(const std::string& library, MpiHandles handles, int rank, int size)
    : handles_(handles), rank_(rank), size_(size) {
  if (handles.handle_bytes != 4 && handles.handle_bytes != 8)
    throw std::invalid_argument("collective: MPI handles must be 4 or 8 bytes, got " +
                                std::to_string(handles.handle_bytes));
  if (size < 1 || rank < 0 || rank >= size)
    throw std::invalid_argument("collective: rank " + std::to_string(rank) + " of " + std::to_string(size));
  void* lib = dlopen(library.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (lib == nullptr) throw std::invalid_argument("collective: the MPI library '" + library + "' is not loaded");
  allreduce_ = dlsym(lib, "MPI_Allreduce");
  dlclose(lib);  // the library stays loaded: mpi4py holds it
  if (allreduce_ == nullptr) throw std::invalid_argument("collective: '" + library + "' has no MPI_Allreduce");
}

template <typename T>
void Collective::allreduce(T* data, int64_t n, int64_t type, std::vector<T>& send) {
  if (n < 0 || (n > 0 && data == nullptr)) throw std::invalid_argument("collective: bad buffer");
  if (size_ == 1 || n == 0) return;
  // In place saves a copy of the buffer (a gradient's megabytes every step) where the library's
  // MPI_IN_PLACE is known.
  const bool in_place = handles_.in_place != 0;
  if (!in_place) send.assign(data, data + n);
  for (int64_t first = 0; first < n; first += INT_MAX) {  // MPI counts are ints
    const int count = static_cast<int>(std::min<int64_t>(INT_MAX, n - first));
    const void* from = in_place ? reinterpret_cast<const void*>(static_cast<intptr_t>(handles_.in_place))
                                : static_cast<const void*>(send.data() + first);
    const int status = handles_.handle_bytes == 4
                           ? call<int32_t>(allreduce_, from, data + first, count, type, handles_.sum_op, handles_.comm)
                           : call<int64_t>(allreduce_, from, data + first, count, type, handles_.sum_op, handles_.comm);
    if (status != 0) throw std::runtime_error("collective: MPI_Allreduce failed with code " + std::to_string(status));
  }
}

void Collective::sum(float* data, int64_t n) { allreduce(data, n, handles_.float_type, send_float_); }
void Collective::sum(double* data, int64_t n) { allreduce(data, n, handles_.double_type, send_double_); }

}  // namespace fitcore
