// The tokenizer's speed, against the reference tiktoken (its npm package, a WASM build of
// tiktoken's Rust core, run by node in the same run on the same 10 MB corpus), with the ids
// checked identical. Reports MB/s and tokens/s for encode and for count, for cl100k_base and
// o200k_base, and the time to load each rank file.
//
// The corpus: this repository's documentation and headers (English prose and C++), and the
// tests' texts in many scripts, emoji, numbers, code and white space, repeated to 10 MB. The
// tests' runs of one character repeated hundreds of times are left out: they exist to test the
// merges of long pieces, which no tokenizer does quickly, and would weigh more here than they
// do in real text.
#include <llm/token/encoding.hpp>

#include <support/temp_dir.hpp>
#include <token/corpus.hpp>

#include <bench/ratio_main.hpp>
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string rank_file(const char* name)
{
    return std::string(LLM_TIKTOKEN_DIR) + "/" + name + ".tiktoken";
}

const std::string& corpus()
{
    static const std::string text = [] {
        std::vector<std::filesystem::path> files;
        const std::filesystem::path root = LLM_SOURCE_DIR;
        for (const auto* dir : {"docs", "include/llm"})
            for (const auto& entry : std::filesystem::recursive_directory_iterator(root / dir))
                if (entry.is_regular_file() &&
                    (entry.path().extension() == ".md" || entry.path().extension() == ".hpp"))
                    files.push_back(entry.path());
        files.push_back(root / "README.md");
        std::sort(files.begin(), files.end());
        std::string sources;
        for (const auto& f : files) {
            std::ostringstream s;
            s << std::ifstream(f, std::ios::binary).rdbuf();
            sources += s.str();
        }
        std::string languages;
        for (const auto& t : llm::test::handwritten_texts())
            if (t.find(std::string(40, t.empty() ? ' ' : t[t.size() / 2])) == std::string::npos)
                languages += t + "\n"; // not the runs of one character, there to test the merges

        std::string out;
        constexpr std::size_t size = 10 * 1024 * 1024;
        while (out.size() < size) {
            out += sources;
            for (int i = 0; i < 20; ++i)
                out += languages;
        }
        out.resize(size);
        // Cut at a character boundary, as the reference reads the file as UTF-8.
        while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
            out.pop_back();
        if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0)
            out.pop_back();
        return out;
    }();
    return text;
}

const llm::token::encoding& encoding_named(const char* name)
{
    static const auto cl100k = llm::token::encoding::load("cl100k_base", rank_file("cl100k_base")).value();
    static const auto o200k = llm::token::encoding::load("o200k_base", rank_file("o200k_base")).value();
    return std::string_view(name) == "cl100k_base" ? cl100k : o200k;
}

template <bool Count>
void run(benchmark::State& state, const char* name)
{
    const auto& enc = encoding_named(name);
    const auto& text = corpus();
    std::size_t tokens = 0;
    for (auto _ : state) {
        if constexpr (Count) {
            tokens = enc.count(text);
        } else {
            auto ids = enc.encode(text);
            tokens = ids.size();
            benchmark::DoNotOptimize(ids.data());
        }
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
    state.counters["tokens/s"] = benchmark::Counter(
        static_cast<double>(tokens) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void encode_cl100k(benchmark::State& s)
{
    run<false>(s, "cl100k_base");
}
void count_cl100k(benchmark::State& s)
{
    run<true>(s, "cl100k_base");
}
void encode_o200k(benchmark::State& s)
{
    run<false>(s, "o200k_base");
}
void count_o200k(benchmark::State& s)
{
    run<true>(s, "o200k_base");
}

void load(benchmark::State& state, const char* name)
{
    for (auto _ : state) {
        auto e = llm::token::encoding::load(name, rank_file(name));
        benchmark::DoNotOptimize(e);
    }
}
void load_cl100k(benchmark::State& s)
{
    load(s, "cl100k_base");
}
void load_o200k(benchmark::State& s)
{
    load(s, "o200k_base");
}

struct reference_run {
    double seconds = 0;
    std::size_t tokens = 0;
    bool identical = false;
};

// tiktoken through node on the same corpus; its ids compared with ours.
reference_run reference(const char* name)
{
    llm::test::temp_dir dir;
    const auto corpus_file = dir.file("corpus.txt");
    std::ofstream(corpus_file, std::ios::binary) << corpus();
    const auto ids_file = dir.file("ids.bin");
    const std::string command = std::string("'") + LLM_NODE + "' '" + LLM_SOURCE_DIR +
                                "/benchmarks/tiktoken_reference.cjs' '" + LLM_TIKTOKEN_DIR + "/npm/package' " + name +
                                " '" + corpus_file + "' '" + ids_file + "' 3";
    FILE* out = ::popen(command.c_str(), "r");
    if (!out)
        return {};
    std::string json;
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, out))
        json += buffer;
    if (::pclose(out) != 0)
        return {};
    reference_run r;
    const auto field = [&](const char* key) {
        const auto at = json.find(std::string("\"") + key + "\":");
        return at == std::string::npos ? 0.0 : std::atof(json.c_str() + at + std::strlen(key) + 3);
    };
    r.seconds = field("seconds");
    r.tokens = static_cast<std::size_t>(field("tokens"));
    std::ifstream in(ids_file, std::ios::binary);
    std::vector<llm::token::rank> theirs(r.tokens);
    in.read(reinterpret_cast<char*>(theirs.data()),
            static_cast<std::streamsize>(theirs.size() * sizeof(llm::token::rank)));
    r.identical = in && encoding_named(name).encode(corpus()) == theirs;
    return r;
}

} // namespace

BENCHMARK(encode_cl100k)->Unit(benchmark::kMillisecond)->MinTime(0.5)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(count_cl100k)->Unit(benchmark::kMillisecond)->MinTime(0.5)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(encode_o200k)->Unit(benchmark::kMillisecond)->MinTime(0.5)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(count_o200k)->Unit(benchmark::kMillisecond)->MinTime(0.5)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(load_cl100k)->Unit(benchmark::kMillisecond)->Iterations(3)->Repetitions(3)->ReportAggregatesOnly(true);
BENCHMARK(load_o200k)->Unit(benchmark::kMillisecond)->Iterations(3)->Repetitions(3)->ReportAggregatesOnly(true);

int main(int argc, char** argv)
{
    const double megabytes = static_cast<double>(corpus().size()) / 1e6;
    auto medians = llm::bench::run_interleaved(argc, argv); // milliseconds per iteration (the cases' unit)
    std::printf("\ncorpus: %.2f MB\n", megabytes);
    for (const auto* name : {"cl100k_base", "o200k_base"}) {
        const std::string suffix = std::string_view(name) == "cl100k_base" ? "cl100k" : "o200k";
        const auto ref = reference(name);
        const double ours = medians["encode_" + suffix] * 1e6; // in nanoseconds
        const double counting = medians["count_" + suffix] * 1e6;
        const std::size_t tokens = encoding_named(name).count(corpus());
        if (ref.seconds > 0) {
            const double theirs_mbs = megabytes / ref.seconds;
            std::printf("%-12s tiktoken (npm, WASM)  %7.1f MB/s  %6.2f M tokens/s   ids identical: %s\n", name,
                        theirs_mbs, static_cast<double>(ref.tokens) / ref.seconds / 1e6, ref.identical ? "yes" : "NO");
        } else {
            std::printf("%-12s tiktoken (npm, WASM)  did not run (node and scripts/fetch-tiktoken needed)\n", name);
        }
        const auto line = [&](const char* what, double ns) {
            if (ns <= 0)
                return;
            const double mbs = megabytes / (ns * 1e-9);
            std::printf("%-12s %-21s %7.1f MB/s  %6.2f M tokens/s", name, what, mbs,
                        static_cast<double>(tokens) / (ns * 1e-9) / 1e6);
            if (ref.seconds > 0)
                std::printf("   %.1f x tiktoken", ref.seconds / (ns * 1e-9));
            std::printf("\n");
        };
        line("llm encode", ours);
        line("llm count", counting);
        std::printf("%-12s rank file load        %7.1f ms\n", name, medians["load_" + suffix]);
    }
    return 0;
}
