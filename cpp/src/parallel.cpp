#include "fitcore/parallel.hpp"

#include <omp.h>

#include <Eigen/Core>

namespace fitcore {

void set_num_threads(int n) {
  omp_set_num_threads(n);
  Eigen::setNbThreads(1);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace fitcore
