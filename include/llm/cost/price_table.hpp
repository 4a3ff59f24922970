// What calls cost: prices per million tokens for each model, with the date they were taken
// from the provider's price list. A model the table does not know has no price: it is reported,
// never priced at zero.
//
// The JSON form, loadable with price_table::parse or load:
//   {"as_of": "2026-11-01",
//    "models": {"gpt-4o-mini": {"input": 0.15, "output": 0.60, "cached_input": 0.075}, ...}}
// Prices are US dollars per million tokens; cached_input defaults to input.
#pragma once

#include <llm/core/result.hpp>
#include <llm/core/usage.hpp>

#include <boost/json/parse.hpp> // parse
#include <boost/json/value.hpp> // value

#include <algorithm>   // std::min
#include <cmath>       // std::isfinite
#include <fstream>     // load
#include <iterator>    // istreambuf_iterator
#include <map>         // models, ordered for prefix lookup
#include <optional>    // cached_input
#include <string>      // model names
#include <string_view> // lookups

namespace llm::cost {

// US dollars per million tokens.
struct price {
    double input = 0;
    double output = 0;
    std::optional<double> cached_input; // the input price when unset

    friend bool operator==(const price&, const price&) = default;
};

class price_table {
public:
    price_table() = default;
    explicit price_table(std::string as_of) : as_of_(std::move(as_of)) {}

    // Adds or replaces a model's price; refuses negative or non-finite prices.
    result<void> set(std::string model, price p)
    {
        for (const double v : {p.input, p.output, p.cached_input.value_or(0)})
            if (!std::isfinite(v) || v < 0)
                return fail(errc::invalid_configuration,
                            "price_table: the price of " + model + " must be a finite, non-negative number");
        if (model.empty())
            return fail(errc::invalid_configuration, "price_table: a model name is empty");
        models_[std::move(model)] = p;
        return success();
    }

    // The model's price: its own entry, or else the entry of the longest name it extends at a
    // '-' (a dated snapshot such as "gpt-4o-mini-2024-07-18" is priced as "gpt-4o-mini").
    const price* find(std::string_view model) const
    {
        for (std::string_view name = model;;) {
            if (auto it = models_.find(name); it != models_.end())
                return &it->second;
            const auto dash = name.rfind('-');
            if (dash == std::string_view::npos || dash == 0)
                return nullptr;
            name = name.substr(0, dash);
        }
    }

    // What `used` cost on `model`, in US dollars; errc::invalid_configuration naming the model
    // when the table has no price for it.
    result<double> cost(std::string_view model, const usage& used) const
    {
        BOOST_OUTCOME_TRY(auto micro, micro_cost(model, used));
        return micro / 1e6;
    }

    // The same in millionths of a dollar, which a price per million tokens gives without a
    // division: budgets count in them.
    result<double> micro_cost(std::string_view model, const usage& used) const
    {
        const price* p = find(model);
        if (!p)
            return unknown(model);
        const auto cached = static_cast<double>(std::min(used.cached_input_tokens, used.input_tokens));
        const auto fresh = static_cast<double>(used.input_tokens) - cached;
        return fresh * p->input + cached * p->cached_input.value_or(p->input) +
               static_cast<double>(used.output_tokens) * p->output;
    }

    error unknown(std::string_view model) const
    {
        return error{errc::invalid_configuration,
                     "no price for model '" + std::string(model) + "' in the price table" +
                         (as_of_.empty() ? std::string() : " (prices as of " + as_of_ + ")") +
                         ": add it, so that its calls are not counted as free"};
    }

    const std::string& as_of() const noexcept { return as_of_; }
    std::size_t size() const noexcept { return models_.size(); }

    static result<price_table> parse(std::string_view json_text)
    {
        boost::system::error_code ec;
        const auto doc = boost::json::parse(json_text, ec);
        if (ec)
            return fail(errc::invalid_configuration, "price table: not valid JSON: " + ec.message());
        const auto* root = doc.if_object();
        if (!root)
            return fail(errc::invalid_configuration, "price table: expected a JSON object at the top");
        price_table table;
        if (const auto* as_of = root->if_contains("as_of")) {
            if (!as_of->is_string())
                return fail(errc::invalid_configuration, "price table: \"as_of\" must be a date string");
            table.as_of_ = std::string(as_of->get_string());
        }
        const auto* models = root->if_contains("models");
        if (!models || !models->is_object())
            return fail(errc::invalid_configuration, "price table: \"models\" must be an object of model names");
        for (const auto& [name, entry] : models->get_object()) {
            const std::string model(name);
            const auto* fields = entry.if_object();
            if (!fields)
                return fail(errc::invalid_configuration, "price table: the entry of " + model + " must be an object");
            price p;
            for (auto [key, target, required] :
                 {std::tuple{"input", &p.input, true}, std::tuple{"output", &p.output, true},
                  std::tuple{"cached_input", static_cast<double*>(nullptr), false}}) {
                const auto* v = fields->if_contains(key);
                if (!v) {
                    if (required)
                        return fail(errc::invalid_configuration,
                                    "price table: " + model + " has no \"" + key + "\" price");
                    continue;
                }
                if (!v->is_number())
                    return fail(errc::invalid_configuration, "price table: the \"" + std::string(key) + "\" price of " +
                                                                 model + " must be a number");
                const double number = v->to_number<double>();
                if (target)
                    *target = number;
                else
                    p.cached_input = number;
            }
            BOOST_OUTCOME_TRY(table.set(model, p));
        }
        return table;
    }

    static result<price_table> load(const std::string& path)
    {
        std::ifstream in(path, std::ios::binary);
        if (!in)
            return fail(errc::invalid_configuration, "price table: cannot read " + path);
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto table = parse(text);
        if (!table)
            return fail(errc::invalid_configuration, path + ": " + table.error().message);
        return table;
    }

private:
    std::string as_of_;
    std::map<std::string, price, std::less<>> models_;
};

} // namespace llm::cost
