import Testing
import Model

@Suite struct DocumentURLTests {
    @Test(arguments: [
        "http://example.com", "https://example.com/docs/1.pdf?x=1#p2", "HTTPS://Example.COM:8443/a",
        "http://127.0.0.1:9000/d", "https://[::1]/d", "https://example.com/" + String(repeating: "a", count: 2028),
    ])
    func accepts(url: String) {
        #expect(DocumentURL.validate(url) == nil, "\(url.prefix(60))")
    }

    @Test(arguments: [
        ("", "must not be empty"),
        ("https://example.com/" + String(repeating: "a", count: 2029), "must be at most 2048 characters"),
        ("https://example.com/a b", "must not contain whitespace or control characters"),
        (" https://example.com", "must not contain whitespace or control characters"),
        ("https://example.com/\n", "must not contain whitespace or control characters"),
        ("https://example.com/\u{7}", "must not contain whitespace or control characters"),
        ("ftp://example.com/file", "must be an http or https URL"),
        ("file:///etc/passwd", "must be an http or https URL"),
        ("example.com/doc", "must be an http or https URL"),
        ("javascript:alert(1)", "must be an http or https URL"),
        ("http:///path", "must have a host"),
        ("https:doc", "must have a host"),
        ("http://exa mple.com", "must not contain whitespace or control characters"),
        ("http://[::1", "is not a valid URL"),
    ])
    func rejects(url: String, reason: String) {
        #expect(DocumentURL.validate(url) == reason, "\(url.prefix(60))")
    }
}
