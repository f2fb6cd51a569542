"""The access log (访问日志): every evidence request, granted or denied, append-only and hash-chained."""
