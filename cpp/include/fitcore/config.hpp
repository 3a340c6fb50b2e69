#pragma once
// Named settings of an op, loss, metric or optimizer, as the Python layer sends them.
#include <map>
#include <stdexcept>
#include <string>

namespace fitcore {

struct Config {
  std::map<std::string, double> numbers;
  std::map<std::string, std::string> strings;

  double number(const std::string& key) const {
    auto it = numbers.find(key);
    if (it == numbers.end()) throw std::invalid_argument("missing setting '" + key + "'");
    return it->second;
  }
  double number(const std::string& key, double fallback) const {
    auto it = numbers.find(key);
    return it == numbers.end() ? fallback : it->second;
  }
  std::string string(const std::string& key, const std::string& fallback = "") const {
    auto it = strings.find(key);
    return it == strings.end() ? fallback : it->second;
  }
};

}  // namespace fitcore
