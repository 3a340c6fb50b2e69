#pragma once
// Confusion-count metrics (AUC, Precision, Recall): every prediction entry against every
// threshold, weighted counts of true/false positives/negatives accumulated over the epoch.
#include <memory>
#include <string>

#include "fitcore/metrics.hpp"

namespace fitcore {

// "auc", "precision", "recall", "true_positives", "false_positives", "true_negatives" or
// "false_negatives"; null for any other name (the registry is make_metric).
std::unique_ptr<Metric> make_confusion_metric(const std::string& name, const Config& config);

}  // namespace fitcore
