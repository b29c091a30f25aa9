package app.anjian.logic

import java.time.LocalDate
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Test

class DatesTest {
    private val inspected = LocalDate.of(2026, 11, 28)

    @Test
    fun `dates typed the usual ways become core's YYYY-MM-DD`() {
        for (text in listOf("2026-12-1", " 2026/12/01 ", "2026.12.1", "2026年12月1日")) {
            assertEquals(DateCheck.Valid("2026-12-01"), checkDate("整改期限", text), text)
        }
    }

    @Test
    fun `an impossible or unreadable date is refused with the field's name`() {
        assertEquals(DateCheck.Invalid("整改期限 “2027-02-29” 不是有效的日期"), checkDate("整改期限", "2027-02-29"))
        assertEquals(DateCheck.Valid("2028-02-29"), checkDate("整改期限", "2028-02-29"))
        assertEquals(DateCheck.Invalid("有效期 “下个月” 应写作 YYYY-MM-DD，如 2026-12-31"), checkDate("有效期", "下个月"))
        assertEquals(DateCheck.Invalid("整改期限 “20261201” 应写作 YYYY-MM-DD，如 2026-12-31"), checkDate("整改期限", "20261201"))
    }

    @Test
    fun `a deadline may be the inspection day but not before it, and blank is none`() {
        assertEquals(DateCheck.Valid("2026-11-28"), checkDeadline("2026-11-28", inspected))
        assertEquals(DateCheck.Invalid("整改期限 2026-11-27 早于检查日期 2026-11-28"), checkDeadline("2026/11/27", inspected))
        assertNull(checkDeadline("   ", inspected))
    }

    @Test
    fun `quick deadlines count calendar days and times read in China time`() {
        assertEquals("2026-12-28", deadlineAfter(30, inspected))
        assertEquals("2027-01-04", deadlineAfter(37, inspected))
        assertEquals(LocalDate.of(2026, 11, 29), inspectionDate("2026-11-29T00:30:00+08:00"))
        assertEquals("2026-11-29 00:30", displayTime("2026-11-29T00:30:00+08:00"))
        assertEquals("不是时间", displayTime("不是时间"))
    }
}
