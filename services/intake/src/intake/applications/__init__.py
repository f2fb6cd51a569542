"""Applications (申请/办件): pre-check, submission, intake decisions, 容缺, routing, output, progress, figures."""
