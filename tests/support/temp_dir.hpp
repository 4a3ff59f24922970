// A fresh directory under the system's temporary folder, removed with everything in it when
// the test ends.
#pragma once

#include <cstdlib>    // mkdtemp
#include <filesystem> // remove_all
#include <stdexcept>  // a test cannot go on without it
#include <string>     // the template

namespace llm::test {

class temp_dir {
public:
    temp_dir()
    {
        std::string name = (std::filesystem::temp_directory_path() / "llm-test-XXXXXX").string();
        if (!::mkdtemp(name.data()))
            throw std::runtime_error("cannot create a temporary directory");
        path_ = name;
    }
    ~temp_dir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

} // namespace llm::test
