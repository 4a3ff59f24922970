// A user's program: a client over the transport that reaches nobody, awaited with a future.
#include <llm/llm.hpp>

#include <asio/use_future.hpp>

#include <cstdio>

int main()
{
    llm::client<llm::transport::none> ai;
    auto answer = ai.complete(llm::request{.model = "any", .messages = {llm::user("hello")}}, asio::use_future).get();
    std::printf("llm %d.%d.%d: %s\n", llm::version_major, llm::version_minor, llm::version_patch,
                answer ? "unexpected answer" : answer.error().describe().c_str());
    // transport::none reaches nobody: provider_unavailable is the right answer.
    return !answer && answer.error() == llm::errc::provider_unavailable ? 0 : 1;
}
