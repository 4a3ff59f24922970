// examples/count-tokens, run as a user runs it: text on standard input, the count (and ids) on
// standard output, clear errors and a non-zero exit for a missing or wrong rank file.
#include <support/temp_dir.hpp>

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

struct finished {
    int status = -1;
    std::string out, err;
};

finished count_tokens(const std::string& args, const std::string& input)
{
    llm::test::temp_dir dir;
    std::ofstream(dir.file("in"), std::ios::binary) << input;
    const std::string command = std::string("'") + LLM_COUNT_TOKENS_EXE + "' " + args + " < '" + dir.file("in") +
                                "' > '" + dir.file("out") + "' 2> '" + dir.file("err") + "'";
    const int status = std::system(command.c_str());
    finished f;
    f.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    const auto read = [&](const char* name) {
        std::ostringstream s;
        s << std::ifstream(dir.file(name), std::ios::binary).rdbuf();
        return s.str();
    };
    f.out = read("out");
    f.err = read("err");
    return f;
}

const std::string ranks_dir = LLM_TIKTOKEN_DIR;

} // namespace

TEST_CASE("count-tokens prints the count, and the ids with --ids", "[examples][count-tokens]")
{
    auto plain = count_tokens("--encoding cl100k_base --ranks '" + ranks_dir + "/cl100k_base.tiktoken'", "hello world");
    CHECK(plain.status == 0);
    CHECK(plain.out == "2\n");

    auto ids =
        count_tokens("--encoding cl100k_base --ranks '" + ranks_dir + "/cl100k_base.tiktoken' --ids", "hello world");
    CHECK(ids.status == 0);
    CHECK(ids.out == "2\n15339 1917\n");

    auto o200k =
        count_tokens("--ids --encoding o200k_base --ranks '" + ranks_dir + "/o200k_base.tiktoken'", "hello world");
    CHECK(o200k.out == "2\n24912 2375\n");

    auto empty = count_tokens("--encoding o200k_base --ranks '" + ranks_dir + "/o200k_base.tiktoken' --ids", "");
    CHECK(empty.status == 0);
    CHECK(empty.out == "0\n\n");
}

TEST_CASE("count-tokens refuses a missing or wrong rank file and bad arguments", "[examples][count-tokens]")
{
    auto missing = count_tokens("--encoding cl100k_base --ranks /nonexistent/cl100k_base.tiktoken", "x");
    CHECK(missing.status == 1);
    CHECK_THAT(missing.err, Catch::Contains("cannot open the rank file /nonexistent/cl100k_base.tiktoken"));
    CHECK(missing.out.empty());

    auto wrong = count_tokens("--encoding cl100k_base --ranks '" + ranks_dir + "/o200k_base.tiktoken'", "x");
    CHECK(wrong.status == 1);
    CHECK_THAT(wrong.err, Catch::Contains("another encoding"));

    auto unknown = count_tokens("--encoding gpt2 --ranks '" + ranks_dir + "/o200k_base.tiktoken'", "x");
    CHECK(unknown.status == 1);
    CHECK_THAT(unknown.err, Catch::Contains("unknown encoding 'gpt2'"));

    auto no_ranks = count_tokens("--encoding cl100k_base", "x");
    CHECK(no_ranks.status == 2);
    CHECK_THAT(no_ranks.err, Catch::Contains("--ranks is required") && Catch::Contains("usage:"));

    auto stray = count_tokens("--encoding cl100k_base --ranks x --verbose", "x");
    CHECK(stray.status == 2);
    CHECK_THAT(stray.err, Catch::Contains("unexpected argument '--verbose'"));
}
