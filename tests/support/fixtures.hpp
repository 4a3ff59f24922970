// Access to the recorded provider traffic in the shared fixtures folder.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace llm::test {

inline std::filesystem::path fixtures_dir()
{
    return LLM_FIXTURES_DIR;
}

// The whole file, byte for byte; fails the test if it cannot be read.
inline std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    INFO("reading " << path.string());
    REQUIRE(in.good());
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Every fixture whose name ends in `extension` (e.g. ".sse"), sorted; fails the test if none.
inline std::vector<std::filesystem::path> fixtures_ending_in(const std::string& extension)
{
    std::vector<std::filesystem::path> found;
    INFO("looking for *" << extension << " under " << fixtures_dir().string());
    REQUIRE(std::filesystem::is_directory(fixtures_dir()));
    for (const auto& entry : std::filesystem::recursive_directory_iterator(fixtures_dir())) {
        const auto name = entry.path().filename().string();
        if (entry.is_regular_file() && name.size() > extension.size() &&
            name.compare(name.size() - extension.size(), extension.size(), extension) == 0)
            found.push_back(entry.path());
    }
    std::sort(found.begin(), found.end());
    REQUIRE_FALSE(found.empty());
    return found;
}

// Every recorded response body: the streams and the JSON bodies, without their .meta.json.
inline std::vector<std::filesystem::path> recorded_bodies()
{
    auto bodies = fixtures_ending_in(".sse");
    for (const auto& json : fixtures_ending_in(".json"))
        if (json.filename().string().find(".meta.") == std::string::npos)
            bodies.push_back(json);
    return bodies;
}

} // namespace llm::test
