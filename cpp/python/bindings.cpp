// pybind11 bindings: conversions and zero-copy views of numpy memory; no logic lives here.
#include <omp.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <Eigen/Core>

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

  py::class_<Trainer>(m, "Trainer", py::dynamic_attr())  // _data: the arrays set_data views, kept alive
      .def(py::init<std::shared_ptr<Network>, std::vector<OutputLossSpec>, OptimizerSpec, uint64_t>())
      .def_property("learning_rate", &Trainer::learning_rate, &Trainer::set_learning_rate)
      .def_property("iterations", &Trainer::iterations, &Trainer::set_iterations)
      .def("set_schedule", &Trainer::set_schedule)
      .def("exclude_from_weight_decay",
           [](Trainer& t, std::vector<ParamSpec> excluded) { t.optimizer().exclude_from_weight_decay(std::move(excluded)); })
      .def_property_readonly("seed", &Trainer::seed)
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
      .def("train_steps", &Trainer::train_steps, py::call_guard<py::gil_scoped_release>())
      .def("train_batch",
           [](Trainer& t, const py::list& x, const py::list& y, const py::list& w) {
             Arrays batch = as_arrays(x, y, w);
             py::gil_scoped_release release;
             t.train_batch(batch);
           })
      .def("evaluate",
           [](Trainer& t, const py::list& x, const py::list& y, const py::list& w, int64_t batch_size) {
             Arrays data = as_arrays(x, y, w);
             py::gil_scoped_release release;
             t.evaluate(data, batch_size);
           })
      .def("predict",
           [](Trainer& t, const py::list& x, int64_t batch_size, const py::list& outputs) {
             Arrays data = as_arrays(x, py::list(), py::list());
             std::vector<MutableArrayRef> out;
             for (const auto& o : outputs) out.push_back(as_output(o));
             py::gil_scoped_release release;
             t.predict(data, batch_size, out);
           })
      .def("compute_gradients",
           [](Trainer& t, const py::list& x, const py::list& y, const py::list& w) {
             Arrays batch = as_arrays(x, y, w);
             py::gil_scoped_release release;
             const Buffer& g = t.compute_gradients(batch);
             py::gil_scoped_acquire acquire;
             return py::array_t<float>(static_cast<py::ssize_t>(g.size()), g.data());  // a copy
           })
      .def("optimizer_state", [](py::object self) {
        auto& opt = self.cast<Trainer&>().optimizer();
        py::list out;
        for (size_t i = 0; i < opt.state().size(); ++i)
          out.append(py::make_tuple(opt.state_names()[i],
                                    view(opt.state()[i].data(), static_cast<int64_t>(opt.state()[i].size()), self)));
        return out;
      });

  set_num_threads(num_threads());  // OMP_NUM_THREADS or all cores; Eigen's own threading off
  m.def("epoch_permutation", [](uint64_t seed, int64_t epoch, int64_t pass, int64_t n) {
    std::vector<int64_t> order;
    epoch_permutation(seed, epoch, pass, n, order);
    return py::array_t<int64_t>(static_cast<py::ssize_t>(order.size()), order.data());  // a copy
  });
  m.def("set_num_threads", &set_num_threads);
  m.def("get_num_threads", &num_threads);
}
