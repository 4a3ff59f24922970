// What every benchmark program here shares: its cases' repetitions interleaved in random order
// (so a noisy neighbour slows them alike), and the median of each case, for the ratios each
// program prints against the baseline it measured in the same run.
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

namespace llm::bench {

// Runs the registered benchmarks and returns each case's median real time, by function name,
// followed by its arguments ("/64/1") when it has any, and "/threads:N" for a case run on
// several threads.
inline std::map<std::string, double> run_interleaved(int argc, char** argv)
{
    class median_reporter : public benchmark::ConsoleReporter {
    public:
        std::map<std::string, double> medians;
        void ReportRuns(const std::vector<Run>& runs) override
        {
            for (const auto& run : runs)
                if (run.aggregate_name == "median")
                    medians[run.run_name.function_name +
                            (run.run_name.args.empty() ? std::string() : "/" + run.run_name.args) +
                            (run.threads > 1 ? "/threads:" + std::to_string(run.threads) : std::string())] =
                        run.GetAdjustedRealTime();
            ConsoleReporter::ReportRuns(runs);
        }
    };
    std::string interleave = "--benchmark_enable_random_interleaving=true";
    std::vector<char*> args{argv[0], interleave.data()};
    args.insert(args.end(), argv + 1, argv + argc);
    int count = static_cast<int>(args.size());
    benchmark::Initialize(&count, args.data());
    median_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return reporter.medians;
}

} // namespace llm::bench
