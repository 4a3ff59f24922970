// Certificates made at run time for TLS tests: a test CA, a server certificate it signs for
// localhost and 127.0.0.1, one it signs for the wrong host name, and one signed by a CA
// nobody trusts. Nothing is stored in the repository; each test process makes its own.
#pragma once

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

namespace llm::test {

struct pem_pair {
    std::string certificate;
    std::string key;
};

namespace detail {

using key_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using cert_ptr = std::unique_ptr<X509, decltype(&X509_free)>;

inline void check(bool ok, const char* what)
{
    if (!ok)
        throw std::runtime_error(std::string("test certificate: ") + what);
}

inline key_ptr make_key()
{
    key_ptr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    check(key != nullptr, "EC key generation");
    return key;
}

inline void add_extension(X509* cert, X509* issuer, int nid, const char* value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    check(ext != nullptr, "extension");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

// issuer == nullptr: self-signed (a CA).
inline cert_ptr make_certificate(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key,
                                 const char* subject_alt_names, long serial)
{
    cert_ptr cert(X509_new(), X509_free);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1, -1,
                               0);
    X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
    X509* signer = issuer ? issuer : cert.get();
    if (subject_alt_names) {
        add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
        add_extension(cert.get(), signer, NID_subject_alt_name, subject_alt_names);
        add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    } else {
        add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
        add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    check(X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0, "signing");
    return cert;
}

inline std::string to_pem(X509* cert)
{
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_X509(bio.get(), cert);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

inline std::string to_pem(EVP_PKEY* key)
{
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

} // namespace detail

struct test_certificates {
    std::string ca;                // PEM of the trusted test CA
    pem_pair localhost;            // signed by it, for DNS:localhost and IP:127.0.0.1
    pem_pair wrong_host;           // signed by it, for DNS:wrong.example only
    pem_pair untrusted;            // for localhost, but signed by another CA
    std::filesystem::path ca_file; // `ca` written to a temporary file, for https_options::ca_file

    static const test_certificates& get()
    {
        static const test_certificates made = make();
        return made;
    }

private:
    static test_certificates make()
    {
        using namespace detail;
        auto ca_key = make_key();
        auto ca = make_certificate(ca_key.get(), "llm test CA", nullptr, nullptr, nullptr, 1);
        auto other_ca_key = make_key();
        auto other_ca = make_certificate(other_ca_key.get(), "untrusted CA", nullptr, nullptr, nullptr, 2);

        auto leaf = [&](const char* cn, X509* issuer, EVP_PKEY* issuer_key, const char* san, long serial) {
            auto key = make_key();
            auto cert = make_certificate(key.get(), cn, issuer, issuer_key, san, serial);
            return pem_pair{to_pem(cert.get()), to_pem(key.get())};
        };

        test_certificates out;
        out.ca = to_pem(ca.get());
        out.localhost = leaf("localhost", ca.get(), ca_key.get(), "DNS:localhost,IP:127.0.0.1", 10);
        out.wrong_host = leaf("wrong.example", ca.get(), ca_key.get(), "DNS:wrong.example", 11);
        out.untrusted = leaf("localhost", other_ca.get(), other_ca_key.get(), "DNS:localhost,IP:127.0.0.1", 12);
        out.ca_file = std::filesystem::temp_directory_path() /
                      ("llm-test-ca-" + std::to_string(reinterpret_cast<std::uintptr_t>(&out)) + ".pem");
        std::ofstream(out.ca_file) << out.ca;
        return out;
    }
};

} // namespace llm::test
