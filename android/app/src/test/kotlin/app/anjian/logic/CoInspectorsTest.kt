package app.anjian.logic

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

class CoInspectorsTest {
    @Test
    fun `colleagues typed with full-width colons and on several lines become core's entries`() {
        val check = checkCoInspectors(" 李娜：37030002：2030-12-31 \n\n王强:37030003；赵敏:37030004:2031/1/5")
        assertEquals(
            CoInspectorsCheck.Ready(listOf("李娜:37030002:2030-12-31", "王强:37030003", "赵敏:37030004:2031-01-05")),
            check,
        )
        assertEquals(CoInspectorsCheck.Ready(listOf()), checkCoInspectors("  \n "))
    }

    @Test
    fun `each bad line is named by its position`() {
        val check = checkCoInspectors("李娜\n王强:37030003:明年\n赵敏:37030001\n钱:37030003", ownCert = "37030001")
        assertEquals(
            CoInspectorsCheck.Refused(
                listOf(
                    "第 1 位同行人员“李娜” 应写作 姓名:执法证号，或 姓名:执法证号:有效期至(YYYY-MM-DD)",
                    "第 2 位同行人员“王强:37030003:明年”：有效期 “明年” 应写作 YYYY-MM-DD，如 2026-12-31",
                    "第 3 位同行人员“赵敏:37030001” 的执法证号与本机执法人员相同",
                    "第 4 位同行人员“钱:37030003” 的执法证号重复",
                ),
            ),
            check,
        )
    }
}
