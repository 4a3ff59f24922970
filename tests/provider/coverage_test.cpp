// Every recorded provider answer in the shared fixtures must be decoded by a provider test: a
// fixture added without a test fails here, naming it.
#include <support/fixtures.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

TEST_CASE("every recorded provider answer is decoded by a provider test", "[provider][fixtures]")
{
    namespace fs = std::filesystem;
    std::string tests; // the provider tests' sources, beside this file
    for (const auto& entry : fs::directory_iterator(fs::path(__FILE__).parent_path()))
        if (entry.path().extension() == ".cpp")
            tests += llm::test::read_file(entry.path());
    std::size_t checked = 0;
    for (const auto& body : llm::test::recorded_bodies()) {
        const auto name = fs::relative(body, llm::test::fixtures_dir()).generic_string();
        if (name.starts_with("paraphrase/"))
            continue; // the semantic cache's question pairs, not provider traffic
        INFO(name << " is not named by any test in tests/provider");
        CHECK(tests.find('"' + name + '"') != std::string::npos);
        ++checked;
    }
    CHECK(checked >= 60); // as many as there were when this test was written
}
