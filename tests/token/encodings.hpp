// The two encodings, loaded once per test program from LLM_TIKTOKEN_DIR, and the reference
// tiktoken run through node on many texts at once.
#pragma once

#include <llm/token/encoding.hpp>

#include <support/temp_dir.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace llm::test {

inline std::string rank_file(const std::string& name)
{
    return std::string(LLM_TIKTOKEN_DIR) + "/" + name + ".tiktoken";
}

inline const token::encoding& load_encoding(const std::string& name)
{
    auto loaded = token::encoding::load(name, rank_file(name));
    if (!loaded)
        FAIL("cannot load " << name << " (run scripts/fetch-tiktoken): " << loaded.error().message);
    return *new token::encoding(std::move(loaded).value()); // kept for the whole program
}

inline const token::encoding& cl100k()
{
    static const token::encoding& e = load_encoding("cl100k_base");
    return e;
}

inline const token::encoding& o200k()
{
    static const token::encoding& e = load_encoding("o200k_base");
    return e;
}

// tiktoken's encode_ordinary of each text (valid UTF-8), through node.
inline std::vector<std::vector<token::rank>> reference_ids(const std::string& encoding,
                                                           const std::vector<std::string>& texts)
{
    temp_dir dir;
    boost::json::array input;
    for (const auto& t : texts)
        input.emplace_back(boost::json::string_view(t));
    const auto in_file = dir.file("texts.json");
    const auto out_file = dir.file("ids.json");
    if (FILE* f = std::fopen(in_file.c_str(), "wb")) {
        const auto json = boost::json::serialize(input);
        std::fwrite(json.data(), 1, json.size(), f);
        std::fclose(f);
    }
    const std::string command = std::string("'") + LLM_NODE + "' '" + LLM_TOKEN_TESTS_DIR + "/reference.cjs' '" +
                                LLM_TIKTOKEN_DIR + "/npm/package' " + encoding + " '" + in_file + "' > '" + out_file +
                                "'";
    if (std::system(command.c_str()) != 0)
        FAIL("the reference tokenizer did not run (node and scripts/fetch-tiktoken needed): " << command);
    std::string json;
    if (FILE* f = std::fopen(out_file.c_str(), "rb")) {
        char buffer[65536];
        std::size_t n;
        while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0)
            json.append(buffer, n);
        std::fclose(f);
    }
    std::vector<std::vector<token::rank>> out;
    const auto parsed = boost::json::parse(json);
    for (const auto& ids : parsed.as_array()) {
        out.emplace_back();
        for (const auto& id : ids.as_array())
            out.back().push_back(static_cast<token::rank>(id.to_number<std::uint64_t>()));
    }
    return out;
}

} // namespace llm::test
