// One loaded encoding, shared by many threads at once, gives each the same ids as one thread
// (TSan runs this area too).
#include "corpus.hpp"
#include "encodings.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

TEST_CASE("an encoding is shared by many threads at once", "[token][threads]")
{
    const auto texts = llm::test::random_texts(200, 200, 5);
    for (const auto* enc : {&llm::test::cl100k(), &llm::test::o200k()}) {
        std::vector<std::vector<llm::token::rank>> expected;
        for (const auto& t : texts)
            expected.push_back(enc->encode(t));
        const llm::token::encoding shared = *enc; // a copy shares the same tables
        std::atomic<int> wrong = 0;
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                for (std::size_t i = 0; i < texts.size(); ++i) {
                    const auto k = (i + static_cast<std::size_t>(t) * 37) % texts.size();
                    if (shared.encode(texts[k]) != expected[k] || shared.count(texts[k]) != expected[k].size())
                        ++wrong;
                }
            });
        for (auto& th : threads)
            th.join();
        CHECK(wrong == 0);
    }
}
