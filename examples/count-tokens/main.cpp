// count-tokens: how many tokens a text is, exactly as OpenAI's models count them.
//
//   count-tokens --encoding cl100k_base|o200k_base --ranks FILE [--ids] < text
//
// Prints the count of the text read from standard input, and with --ids the ids themselves,
// space-separated, on a second line. The rank file is the encoding's standard one
// (scripts/fetch-tiktoken fetches both); nothing is downloaded.
#include <llm/token/encoding.hpp>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>

namespace {

int usage(const char* why)
{
    std::fprintf(stderr,
                 "count-tokens: %s\n"
                 "usage: count-tokens --encoding cl100k_base|o200k_base --ranks FILE [--ids] < text\n",
                 why);
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    std::string encoding_name;
    std::string ranks;
    bool ids = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--ids")
            ids = true;
        else if (arg == "--encoding" && i + 1 < argc)
            encoding_name = argv[++i];
        else if (arg == "--ranks" && i + 1 < argc)
            ranks = argv[++i];
        else if (arg == "--help" || arg == "-h") {
            std::printf("usage: count-tokens --encoding cl100k_base|o200k_base --ranks FILE [--ids] < text\n");
            return 0;
        } else
            return usage(("unexpected argument '" + std::string(arg) + "'").c_str());
    }
    if (encoding_name.empty())
        return usage("--encoding is required");
    if (ranks.empty())
        return usage("--ranks is required");

    auto loaded = llm::token::encoding::load(encoding_name, ranks);
    if (!loaded) {
        std::fprintf(stderr, "count-tokens: %s\n", loaded.error().message.c_str());
        return 1;
    }
    const auto& enc = loaded.value();
    std::ios::sync_with_stdio(false);
    const std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (!ids) {
        std::printf("%zu\n", enc.count(text));
        return 0;
    }
    const auto tokens = enc.encode(text);
    std::printf("%zu\n", tokens.size());
    std::string line;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (i > 0)
            line += ' ';
        line += std::to_string(tokens[i]);
    }
    std::printf("%s\n", line.c_str());
    return 0;
}
