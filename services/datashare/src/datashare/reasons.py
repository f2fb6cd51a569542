"""Why an evidence request was refused: one stable code per reason, with its status and texts."""

from __future__ import annotations

from dataclasses import dataclass

from servicekit.problems import Problem


@dataclass(frozen=True)
class Reason:
    code: str
    status: int
    title: str
    message: str  # 中文 (English)


_REASONS = (
    Reason(
        "consumer_missing",
        422,
        "未指明调用方 Consumer missing",
        "运维人员须指明代表哪个成员单位调用 (name the consumer)",
    ),
    Reason(
        "consumer_mismatch",
        403,
        "调用方不符 Consumer mismatch",
        "只能以本单位身份调用 (a caller requests as its own member only)",
    ),
    Reason(
        "unknown_consumer",
        403,
        "调用方未注册 Unknown consumer",
        "调用方不是已注册的成员单位 (the caller is not a registered member)",
    ),
    Reason(
        "purpose_missing",
        422,
        "缺少用途 Purpose missing",
        "请求须注明办件编号 (name the case number the evidence is for)",
    ),
    Reason(
        "officer_missing", 422, "缺少经办人 Officer missing", "请求须注明经办人 (name the acting officer)"
    ),
    Reason(
        "invalid_subject",
        422,
        "主体编号无效 Invalid subject",
        "身份证号码或统一社会信用代码无效 (invalid ID number or credit code)",
    ),
    Reason(
        "unknown_certificate_type",
        422,
        "证照类型未登记 Unknown certificate type",
        "证照目录中没有该类型 (not in the evidence catalogue)",
    ),
    Reason(
        "no_access_rule",
        403,
        "无共享权限 No access right",
        "调用方无权就该事项获取该证照 (no access rule for this consumer, type and item)",
    ),
    Reason(
        "consent_required",
        403,
        "需本人授权 Consent required",
        "该证照须经本人授权后方可共享 (the subject has not consented)",
    ),
    Reason(
        "unknown_subject",
        404,
        "主体不存在 Unknown subject",
        "数据共享平台没有该主体的任何证照 (no certificates about this subject)",
    ),
    Reason(
        "certificate_not_found",
        404,
        "证照不存在 Certificate not found",
        "该主体没有此类证照 (the subject holds no certificate of this type)",
    ),
    Reason(
        "certificate_expired",
        409,
        "证照已过期 Certificate expired",
        "该证照已超过有效期 (the certificate has expired)",
    ),
    Reason(
        "certificate_revoked",
        409,
        "证照已注销 Certificate revoked",
        "该证照已被发证机关注销 (the issuer revoked the certificate)",
    ),
    Reason(
        "provider_timeout",
        504,
        "提供方超时 Provider timeout",
        "证照提供方未在时限内应答 (the provider did not answer in time)",
    ),
    Reason(
        "provider_unavailable",
        502,
        "提供方不可用 Provider unavailable",
        "证照提供方无法访问或报错 (the provider could not be reached or failed)",
    ),
    Reason(
        "provider_bad_answer",
        502,
        "提供方应答无效 Provider answered garbage",
        "证照提供方的应答不符合约定 (the provider's answer is malformed)",
    ),
)
REASONS: dict[str, Reason] = {r.code: r for r in _REASONS}


def refusal(code: str, request_id: str) -> Problem:
    """The problem a refused request answers with; the header names its access-log entry."""
    reason = REASONS[code]
    return Problem(
        reason.status,
        reason.code,
        reason.title,
        f"{reason.message}；请求编号 {request_id} 已记入访问日志 (request {request_id} is logged)",
        headers={"X-Evidence-Request-Id": request_id},
    )
