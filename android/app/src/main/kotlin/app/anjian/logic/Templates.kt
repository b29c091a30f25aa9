package app.anjian.logic

import app.anjian.ffi.TemplateView

/**
 * Checklists in the order to offer them for an enterprise: those of its industry first, then
 * the general ones (通用), then the rest; enforcement lists before the others within each.
 */
fun templatesFor(templates: List<TemplateView>, industry: String): List<TemplateView> =
    templates.sortedWith(
        compareBy<TemplateView>(
            {
                when (it.industry) {
                    industry -> 0
                    "通用" -> 1
                    else -> 2
                }
            },
            { if (it.kind == "enforcement") 0 else 1 },
            { it.title },
        ),
    )

/** The checklist to preselect: the only one or the first of the enterprise's own industry. */
fun preselectedTemplate(templates: List<TemplateView>, industry: String): TemplateView? =
    templates.singleOrNull() ?: templatesFor(templates, industry).firstOrNull { it.industry == industry }
