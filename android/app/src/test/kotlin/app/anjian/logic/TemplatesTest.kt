package app.anjian.logic

import app.anjian.ffi.TemplateView
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

class TemplatesTest {
    private fun template(id: String, industry: String, kind: String) =
        TemplateView(id, 1u, "表 $id", industry, kind, kind, 10u, listOf())

    @Test
    fun `the enterprise's own industry comes first, then general lists, enforcement first`() {
        val all = listOf(
            template("self", "通用", "self"),
            template("mine", "非煤矿山", "enforcement"),
            template("trade-self", "工贸", "self"),
            template("trade", "工贸", "enforcement"),
        )
        assertEquals(listOf("trade", "trade-self", "self", "mine"), templatesFor(all, "工贸").map { it.id })
        assertEquals("trade", preselectedTemplate(all, "工贸")?.id)
        assertEquals(null, preselectedTemplate(all, "危险化学品"), "no guess for an industry without its own list")
        assertEquals("mine", preselectedTemplate(listOf(template("mine", "非煤矿山", "enforcement")), "工贸")?.id)
    }
}
