// The calls and the token counter the budget tests share.
#pragma once

#include <llm/core/clock.hpp>
#include <llm/core/request.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace llm::test {

inline const time_point day_one = time_point{std::chrono::sys_days{std::chrono::year{2026} / 11 / 24}};

// Every prompt counts as `tokens` input tokens, so the arithmetic of a test is plain.
struct fixed_counter {
    std::uint64_t tokens = 100;
    std::uint64_t count(const request&) const noexcept { return tokens; }
};

inline request call(std::string user, std::optional<std::uint32_t> max_tokens = 200, std::string tenant = "acme")
{
    request r;
    r.model = "gpt-4o-mini";
    r.messages = {llm::user("hello")};
    r.max_tokens = max_tokens;
    r.identity.user = std::move(user);
    r.identity.tenant = std::move(tenant);
    return r;
}

} // namespace llm::test
