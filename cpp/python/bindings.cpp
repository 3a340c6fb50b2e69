// pybind11 bindings: conversions and zero-copy views of numpy memory; no logic lives here.
#include <omp.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <Eigen/Core>

#include "fitcore/collective.hpp"
#include "fitcore/activations.hpp"
#include "fitcore/kernels/gemm.hpp"
#include "fitcore/kernels/isa.hpp"
#include "fitcore/kernels/vecmath.hpp"
#include "fitcore/parallel.hpp"
#include "fitcore/random.hpp"
#include "fitcore/trainer.hpp"

namespace py = pybind11;
using namespace fitcore;

namespace {

// A view of a C-contiguous float32 / int32 / int64 numpy array, as rows x width (the core checks
// the shapes it needs).
ArrayRef as_ref(const py::handle& obj) {
  if (obj.is_none()) return {};
  if (!py::isinstance<py::array>(obj)) throw py::type_error("fitcore core expects numpy arrays or None");
  auto a = py::reinterpret_borrow<py::array>(obj);
  if (!(a.flags() & py::array::c_style) || a.ndim() < 1)
    throw py::type_error("fitcore core expects C-contiguous arrays with a batch axis");
  ArrayRef r;
  if (a.dtype().equal(py::dtype::of<float>())) r.dtype = DType::float32;
  else if (a.dtype().equal(py::dtype::of<int32_t>())) r.dtype = DType::int32;
  else if (a.dtype().equal(py::dtype::of<int64_t>())) r.dtype = DType::int64;
  else throw py::type_error("fitcore core expects float32, int32 or int64 arrays");
  r.data = a.data();
  r.rows = a.shape(0);
  r.width = a.ndim() == 0 ? 1 : a.size() / std::max<py::ssize_t>(a.shape(0), 1);
  if (a.shape(0) == 0) r.width = 0;
  return r;
}

// Where predict writes: a writeable C-contiguous float32 array.
MutableArrayRef as_output(const py::handle& obj) {
  const ArrayRef r = as_ref(obj);
  auto a = py::reinterpret_borrow<py::array>(obj);
  if (r.dtype != DType::float32 || !a.writeable())
    throw py::type_error("fitcore core writes into writeable float32 arrays");
  return {static_cast<float*>(a.mutable_data()), r.rows, r.width};
}

std::vector<ArrayRef> as_refs(const py::list& arrays) {
  std::vector<ArrayRef> out;
  for (const auto& a : arrays) out.push_back(as_ref(a));
  return out;
}

Arrays as_arrays(const py::list& inputs, const py::list& targets, const py::list& weights) {
  Arrays d;
  d.inputs = as_refs(inputs);
  d.targets = as_refs(targets);
  d.weights = as_refs(weights);
  return d;
}

// Releases the GIL around a core call. Unlike py::gil_scoped_release, its destructor lets a forced
// unwind through: at interpreter exit CPython ends a daemon thread that asks for the GIL back with
// pthread_exit(), and that unwind meeting a noexcept destructor is std::terminate ("terminate
// called without an active exception"). pybind11's dispatcher rethrows abi::__forced_unwind.
class CoreCall {
 public:
  CoreCall() : state_(PyEval_SaveThread()) {}
  ~CoreCall() noexcept(false) { PyEval_RestoreThread(state_); }
  CoreCall(const CoreCall&) = delete;
  CoreCall& operator=(const CoreCall&) = delete;

 private:
  PyThreadState* state_;
};

// A C-contiguous float32 array's data and size, for copies in and out of a parameter buffer.
py::array_t<float, py::array::c_style> float_array(const py::handle& obj) {
  auto a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<float>()) || !(a.flags() & py::array::c_style))
    throw py::type_error("fitcore core expects a C-contiguous float32 array");
  return py::reinterpret_borrow<py::array_t<float, py::array::c_style>>(a);
}

// A float32 numpy view of `n` floats at `data`, keeping `owner` alive.
py::array_t<float> view(float* data, int64_t n, py::handle owner) {
  return py::array_t<float>({static_cast<py::ssize_t>(n)}, {static_cast<py::ssize_t>(sizeof(float))}, data, owner);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "fitcore's compiled core";

  py::class_<Config>(m, "Config")
      .def(py::init<>())
      .def(py::init([](std::map<std::string, double> numbers, std::map<std::string, std::string> strings) {
             return Config{std::move(numbers), std::move(strings)};
           }),
           py::arg("numbers") = std::map<std::string, double>{}, py::arg("strings") = std::map<std::string, std::string>{})
      .def_readwrite("numbers", &Config::numbers)
      .def_readwrite("strings", &Config::strings);

  py::class_<ParamSpec>(m, "ParamSpec")
      .def(py::init([](int64_t offset, int64_t size, float l1, float l2) { return ParamSpec{offset, size, l1, l2}; }),
           py::arg("offset"), py::arg("size"), py::arg("l1") = 0.0f, py::arg("l2") = 0.0f)
      .def_readwrite("offset", &ParamSpec::offset)
      .def_readwrite("size", &ParamSpec::size)
      .def_readwrite("l1", &ParamSpec::l1)
      .def_readwrite("l2", &ParamSpec::l2);

  py::class_<OpSpec>(m, "OpSpec")
      .def(py::init([](std::string kind, std::vector<int> inputs, int output, Config config,
                       std::vector<ParamSpec> params) {
        return OpSpec{std::move(kind), std::move(inputs), output, std::move(config), std::move(params)};
      }))
      .def_readonly("kind", &OpSpec::kind);

  py::class_<GraphSpec>(m, "GraphSpec")
      .def(py::init([](std::vector<std::vector<int64_t>> slot_shapes, std::vector<int> inputs, std::vector<int> outputs,
                       std::vector<OpSpec> ops, int64_t num_params, int64_t num_trainable) {
        return GraphSpec{std::move(slot_shapes), std::move(inputs), std::move(outputs), std::move(ops), num_params,
                         num_trainable};
      }));

  py::class_<Network, std::shared_ptr<Network>>(m, "Network")
      .def(py::init<GraphSpec>())
      .def_property_readonly("num_params", &Network::num_params)
      .def_property_readonly("params", [](py::object self) {
        auto& net = self.cast<Network&>();
        return view(net.params(), net.num_params(), self);
      })
      .def_property_readonly("generation", &Network::generation)
      .def("read",
           [](const Network& net, int64_t offset, const py::handle& out) {
             auto a = float_array(out);
             if (!a.writeable()) throw py::type_error("fitcore core: the output array is read-only");
             float* data = a.mutable_data();
             const int64_t size = a.size();
             CoreCall call;
             net.read_params(offset, size, data);
           })
      .def("write",
           [](Network& net, int64_t offset, const py::handle& in) {
             auto a = float_array(in);
             const float* data = a.data();
             const int64_t size = a.size();
             CoreCall call;
             net.write_params(offset, size, data);
           })
      .def("copy_from",
           [](Network& net, const Network& from, const std::vector<int64_t>& from_offsets,
              const std::vector<int64_t>& to_offsets, const std::vector<int64_t>& sizes) {
             if (from_offsets.size() != to_offsets.size() || from_offsets.size() != sizes.size())
               throw py::value_error("copy_from: offsets and sizes must have one entry per range");
             std::vector<Network::ParamCopy> copies;
             for (size_t i = 0; i < sizes.size(); ++i) copies.push_back({from_offsets[i], to_offsets[i], sizes[i]});
             CoreCall call;
             net.copy_params_from(from, copies);
           });

  py::class_<OutputLossSpec>(m, "OutputLossSpec")
      .def(py::init([](std::string name, Config config, float weight, int64_t target_width) {
        return OutputLossSpec{std::move(name), std::move(config), weight, target_width};
      }));

  py::class_<MetricSpec>(m, "MetricSpec")
      .def(py::init([](std::string name, Config config, int output, bool weighted) {
        return MetricSpec{std::move(name), std::move(config), output, weighted};
      }));

  py::class_<OptimizerSpec>(m, "OptimizerSpec").def(py::init([](std::string name, Config config) {
    return OptimizerSpec{std::move(name), std::move(config)};
  }));

  py::class_<MpiHandles>(m, "MpiHandles")
      .def(py::init([](int64_t comm, int64_t float_type, int64_t double_type, int64_t sum_op, int handle_bytes,
                       int64_t in_place) {
             return MpiHandles{comm, float_type, double_type, sum_op, handle_bytes, in_place};
           }),
           py::arg("comm"), py::arg("float_type"), py::arg("double_type"), py::arg("sum_op"), py::arg("handle_bytes"),
           py::arg("in_place") = 0);

  py::class_<Collective, std::shared_ptr<Collective>>(m, "Collective")
      .def(py::init<std::string, MpiHandles, int, int>(), py::arg("library"), py::arg("handles"), py::arg("rank"),
           py::arg("size"))
      .def_property_readonly("rank", &Collective::rank)
      .def_property_readonly("size", &Collective::size)
      .def("sum", [](Collective& c, py::array_t<float, py::array::c_style> a) {
        float* data = a.mutable_data();
        py::gil_scoped_release release;
        c.sum(data, static_cast<int64_t>(a.size()));
      })
      .def("sum", [](Collective& c, py::array_t<double, py::array::c_style> a) {
        double* data = a.mutable_data();
        py::gil_scoped_release release;
        c.sum(data, static_cast<int64_t>(a.size()));
      });

  py::class_<Trainer>(m, "Trainer", py::dynamic_attr())  // _data: the arrays set_data views, kept alive
      .def(py::init<std::shared_ptr<Network>, std::vector<OutputLossSpec>, OptimizerSpec, uint64_t>())
      .def_property("learning_rate", &Trainer::learning_rate, &Trainer::set_learning_rate)
      .def_property("iterations", &Trainer::iterations, &Trainer::set_iterations)
      .def("set_schedule", &Trainer::set_schedule)
      .def("exclude_from_weight_decay",
           [](Trainer& t, std::vector<ParamSpec> excluded) { t.optimizer().exclude_from_weight_decay(std::move(excluded)); })
      .def_property_readonly("seed", &Trainer::seed)
      .def("set_collective", &Trainer::set_collective, py::arg("collective").none(true))
      .def("set_metrics", &Trainer::set_metrics)
      .def("reset_metrics", &Trainer::reset_metrics)
      .def("results", &Trainer::results)
      .def("set_data", [](py::object self, const py::list& x, const py::list& y, const py::list& w) {
        self.cast<Trainer&>().set_data(as_arrays(x, y, w));
        self.attr("_data") = py::make_tuple(py::tuple(x), py::tuple(y), py::tuple(w));
      })
      .def("clear_data", [](py::object self) {
        self.cast<Trainer&>().clear_data();
        self.attr("_data") = py::none();
      })
      .def("begin_epoch", &Trainer::begin_epoch)
      .def("release_thread_state", &Trainer::release_thread_state)
      .def("train_steps", &Trainer::train_steps, py::call_guard<CoreCall>())
      .def("train_batch",
           [](Trainer& t, const py::list& x, const py::list& y, const py::list& w) {
             Arrays batch = as_arrays(x, y, w);
             CoreCall call;
             t.train_batch(batch);
           })
      .def("evaluate",
           [](Trainer& t, const py::list& x, const py::list& y, const py::list& w, int64_t batch_size,
              bool own_rows) {
             Arrays data = as_arrays(x, y, w);
             CoreCall call;
             t.evaluate(data, batch_size, own_rows);
           },
           py::arg("x"), py::arg("y"), py::arg("w"), py::arg("batch_size"), py::arg("own_rows") = false)
      .def("predict",
           [](Trainer& t, const py::list& x, int64_t batch_size, const py::list& outputs) {
             Arrays data = as_arrays(x, py::list(), py::list());
             std::vector<MutableArrayRef> out;
             for (const auto& o : outputs) out.push_back(as_output(o));
             CoreCall call;
             t.predict(data, batch_size, out);
           })
      .def("compute_gradients",
           [](Trainer& t, const py::list& x, const py::list& y, const py::list& w) {
             Arrays batch = as_arrays(x, y, w);
             const Buffer* g = nullptr;
             {
               CoreCall call;
               g = &t.compute_gradients(batch);
             }
             return py::array_t<float>(static_cast<py::ssize_t>(g->size()), g->data());  // a copy
           })
      .def("optimizer_state", [](py::object self) {
        auto& opt = self.cast<Trainer&>().optimizer();
        py::list out;
        for (size_t i = 0; i < opt.state().size(); ++i)
          out.append(py::make_tuple(opt.state_names()[i],
                                    view(opt.state()[i].data(), static_cast<int64_t>(opt.state()[i].size()), self)));
        return out;
      });

  init_threads();  // the fork handler; Eigen's own threading off
  m.def("epoch_permutation", [](uint64_t seed, int64_t epoch, int64_t pass, int64_t n) {
    std::vector<int64_t> order;
    epoch_permutation(seed, epoch, pass, n, order);
    return py::array_t<int64_t>(static_cast<py::ssize_t>(order.size()), order.data());  // a copy
  });
  m.def("set_num_threads", &set_num_threads);
  m.def("get_num_threads", &num_threads);
  m.def("max_threads", &max_threads);

  // Instruction-set level of the vectorised kernels (kernels/isa.hpp), and test hooks onto them.
  auto isa_from_name = [](const std::string& name) {
    for (auto isa : {kernels::Isa::baseline, kernels::Isa::avx2, kernels::Isa::avx512})
      if (name == kernels::isa_name(isa)) return isa;
    throw std::invalid_argument("unknown instruction set '" + name + "' (expected 'baseline', 'avx2' or 'avx512')");
  };
  m.def("set_isa_limit", [isa_from_name](const std::string& name) { kernels::set_isa_limit(isa_from_name(name)); });
  m.def("active_isa", [] { return std::string(kernels::isa_name(kernels::active_isa())); });
  m.def("supported_isa", [] { return std::string(kernels::isa_name(kernels::supported_isa())); });
  m.def("fma_peak_gflops", [isa_from_name](const std::string& isa, int threads, double seconds) {
    py::gil_scoped_release release;
    return kernels::fma_peak_gflops(isa_from_name(isa), threads, seconds);
  });
  using Floats = py::array_t<float, py::array::c_style | py::array::forcecast>;
  auto rows_cols = [](const Floats& a) {
    if (a.ndim() != 2) throw std::invalid_argument("expected a 2-D float32 array");
    return std::pair<int64_t, int64_t>(a.shape(0), a.shape(1));
  };
  m.def("_activation_forward", [rows_cols](const std::string& name, const Floats& z) {
    const auto [rows, cols] = rows_cols(z);
    Floats y({rows, cols});
    activation_forward(parse_activation(name), z.data(), y.mutable_data(), rows, cols);
    return y;
  });
  m.def("_activation_backward", [rows_cols](const std::string& name, const Floats& z, const Floats& y,
                                            const Floats& g) {
    const auto shape = rows_cols(z);
    if (rows_cols(y) != shape || rows_cols(g) != shape) throw std::invalid_argument("z, y and g differ in shape");
    Floats out({shape.first, shape.second});
    std::copy(g.data(), g.data() + g.size(), out.mutable_data());
    activation_backward(parse_activation(name), z.data(), y.data(), out.mutable_data(), shape.first, shape.second);
    return out;
  });
  m.def("_dropout", [](uint64_t key, uint64_t counter, float rate, const Floats& x) {
    const float scale = kernels::dropout_scale(rate);
    Floats y(x.size());
    kernels::vecmath().dropout(key, counter, kernels::dropout_threshold(rate), scale, x.data(), y.mutable_data(),
                               nullptr, x.size());
    return y;
  });
  // The forward's mask applied to a gradient as the backward pass does: g * scale where the draw
  // for (key, counter + i) keeps element i, from the mask bytes the forward wrote.
  m.def("_dropout_backward", [](uint64_t key, uint64_t counter, float rate, const Floats& x, const Floats& g) {
    const float scale = kernels::dropout_scale(rate);
    if (g.size() != x.size()) throw std::invalid_argument("x and g differ in size");
    Floats y(x.size()), out(g.size());
    std::vector<uint8_t> keep(static_cast<size_t>(x.size()));
    const kernels::VecMath& k = kernels::vecmath();
    k.dropout(key, counter, kernels::dropout_threshold(rate), scale, x.data(), y.mutable_data(), keep.data(), x.size());
    std::copy(g.data(), g.data() + g.size(), out.mutable_data());
    k.dropout_backward(keep.data(), scale, out.mutable_data(), g.size());
    return out;
  });
  m.def("_gaussian_noise", [](uint64_t key, uint64_t counter, float stddev, const Floats& x) {
    Floats y(x.size());
    kernels::vecmath().gaussian_noise(key, counter, stddev, x.data(), y.mutable_data(), x.size());
    return y;
  });
  m.def("_box_muller", [](const Floats& u1, const Floats& u2) {
    if (u1.size() != u2.size()) throw std::invalid_argument("u1 and u2 differ in size");
    Floats z(u1.size());
    kernels::vecmath().box_muller(u1.data(), u2.data(), z.mutable_data(), u1.size());
    return z;
  });
  m.def("_sum_of_squares", [](const Floats& x) { return kernels::vecmath().sum_of_squares(x.data(), x.size()); });
  m.def("_standard_normal", [](uint64_t key, uint64_t counter, int64_t n) {  // the scalar generator
    if (n < 0) throw std::invalid_argument("n must be >= 0");
    Floats z(n);
    for (int64_t i = 0; i < n; ++i) z.mutable_data()[i] = standard_normal(key, counter + static_cast<uint64_t>(i));
    return z;
  });
  // C = A B (or C += A B) on numpy float32 views of any strides, for tests and benchmarks.
  m.def("gemm", [](py::array_t<float, 0> a, py::array_t<float, 0> b, py::array_t<float, 0> c, bool accumulate) {
    const auto view = [](py::array_t<float, 0>& x, bool writeable) {
      if (x.ndim() != 2) throw py::value_error("gemm: operands must be 2-D");
      if (writeable && !x.writeable()) throw py::value_error("gemm: C must be writeable");
      if (x.strides(0) % static_cast<py::ssize_t>(sizeof(float)) || x.strides(1) % static_cast<py::ssize_t>(sizeof(float)))
        throw py::value_error("gemm: strides must be whole floats");
      return kernels::MatrixView{static_cast<float*>(x.request(writeable).ptr), x.shape(0), x.shape(1),
                                 x.strides(0) / static_cast<py::ssize_t>(sizeof(float)),
                                 x.strides(1) / static_cast<py::ssize_t>(sizeof(float))};
    };
    const kernels::MatrixView av = view(a, false), bv = view(b, false), cv = view(c, true);
    py::gil_scoped_release release;
    kernels::gemm_checked(av, bv, cv, accumulate);
  }, py::arg("a"), py::arg("b"), py::arg("c"), py::arg("accumulate"));
}
