// The vocabulary: messages, requests, validation.
#include <llm/core/usage.hpp>
#include <llm/core/validate.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using namespace llm;

TEST_CASE("message helpers build each role", "[core][request]")
{
    CHECK(llm::system("be brief").role == role::system);
    CHECK(user("hi").text == "hi");
    auto call = tool_call{.id = "c1", .name = "weather", .arguments = R"({"city":"Oslo"})"};
    auto a = assistant("", {call});
    CHECK(a.role == role::assistant);
    CHECK(a.tool_calls == std::vector<tool_call>{call});
    auto t = tool("c1", "12 degrees");
    CHECK(t.role == role::tool);
    REQUIRE(t.tool_results.size() == 1);
    CHECK(t.tool_results[0].call_id == "c1");
    CHECK_FALSE(t.tool_results[0].is_error);
}

TEST_CASE("a well-formed request passes validation", "[core][request]")
{
    request r{.model = "m",
              .messages = {llm::system("be brief"), user("weather?"),
                           assistant("", {tool_call{.id = "c1", .name = "weather", .arguments = "{}"}}),
                           tool("c1", "sunny")},
              .max_tokens = 100,
              .temperature = 0.2,
              .tools = {tool_definition{.name = "weather", .description = "current weather"}}};
    CHECK_FALSE(validate(r));
}

TEST_CASE("validation refuses what no provider accepts, saying what to fix", "[core][request]")
{
    auto refused = [](request r) {
        auto e = validate(r);
        REQUIRE(e);
        CHECK(*e == errc::bad_request);
        return e->message;
    };
    CHECK_THAT(refused(request{}), Catch::Contains("add at least one user message"));
    CHECK_THAT(refused(request{.messages = {user("x")}, .max_tokens = 0}), Catch::Contains("max_tokens is 0"));
    CHECK_THAT(refused(request{.messages = {user("x")}, .temperature = 3.5}), Catch::Contains("temperature"));
    CHECK_THAT(refused(request{.messages = {user("x")}, .temperature = std::nan("")}), Catch::Contains("temperature"));
    CHECK_THAT(refused(request{.messages = {user("x")}, .top_p = 0.0}), Catch::Contains("top_p"));
    CHECK_THAT(refused(request{.messages = {message{.role = role::tool}}}), Catch::Contains("llm::tool("));
    CHECK_THAT(refused(request{.messages = {tool("", "x")}}), Catch::Contains("empty call_id"));
    CHECK_THAT(refused(request{.messages = {message{.role = role::user, .tool_calls = {tool_call{}}}}}),
               Catch::Contains("only assistant"));
    CHECK_THAT(refused(request{.messages = {user("x")}, .tools = {tool_definition{}}}), Catch::Contains("empty name"));
}

TEST_CASE("usage adds up and totals input and output", "[core][request]")
{
    usage u{.input_tokens = 10, .output_tokens = 5, .cached_input_tokens = 4};
    CHECK(u.total() == 15);
    u += usage{1, 2, 3};
    CHECK(u == usage{11, 7, 7});
}
