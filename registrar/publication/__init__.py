"""Publication: the one public record, and the pure formatters rendered from it."""
