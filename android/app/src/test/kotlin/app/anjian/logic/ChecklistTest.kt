package app.anjian.logic

import app.anjian.ffi.AnswerInput
import app.anjian.logic.Samples.answer
import app.anjian.logic.Samples.hazard
import app.anjian.logic.Samples.item
import app.anjian.logic.Samples.record
import java.time.LocalDate
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class ChecklistTest {
    private val day = LocalDate.of(2026, 11, 28)

    private val progress = ChecklistProgress(
        listOf(
            item("A", answer = answer("A", "pass")),
            item("B"),
            item("C", required = false),
            item("D", answer = answer("D", "fail")),
            item("E"),
        ),
        conflictedItems = listOf("D"),
    )

    @Test
    fun `the next item is the next unanswered required one or a conflict, wrapping round`() {
        assertEquals(1, progress.firstToShow())
        assertEquals(3, progress.nextNeedingAttention(1), "the conflicted item, though answered")
        assertEquals(4, progress.nextNeedingAttention(3))
        assertEquals(1, progress.nextNeedingAttention(4), "wraps to the start")
        assertEquals(3, progress.nextNeedingAttention(2))
        assertEquals(1, progress.nextNeedingAttention(0), "from A, B")
        assertFalse(progress.ready)
        assertEquals("必查项已答 2/4，共答 2/5，冲突 1 项", progress.summary())
        assertEquals(listOf("✓", "○", "·", "⚠", "○"), progress.items.indices.map(progress::marker))
    }

    @Test
    fun `when nothing needs attention the next item simply follows`() {
        val done = ChecklistProgress(listOf(item("A", answer = answer("A", "pass")), item("B", required = false)), listOf())
        assertTrue(done.ready)
        assertNull(done.nextNeedingAttention(0))
        assertEquals(1, done.afterAnswer(0))
        assertEquals(1, done.afterAnswer(1), "stays on the last item")
        assertEquals(0, done.firstToShow())
    }

    @Test
    fun `a failed check keeps its normalised deadline and measure, a pass drops them`() {
        val check = item("IT-003")
        val fail = prepareAnswer(check, AnswerChoice.Fail, "2026/12/1", " 加锁 ", "  配电箱未上锁 ", listOf("/p/1.jpg"), day)
        assertEquals(
            AnswerCheck.Ready("fail", AnswerInput(note = "配电箱未上锁", photoPaths = listOf("/p/1.jpg"), deadline = "2026-12-01", measure = "加锁"), true),
            fail,
        )
        val pass = prepareAnswer(check, AnswerChoice.Pass, "2026-12-01", "加锁", " ", listOf(), day)
        assertEquals(AnswerCheck.Ready("pass", AnswerInput(), false), pass, "hidden fail fields are not sent")
        assertEquals(AnswerCheck.Ready("na", AnswerInput(), false), prepareAnswer(check, AnswerChoice.NotApplicable, "", "", "", listOf(), day))
        assertEquals(
            AnswerCheck.Refused("整改期限 2026-11-01 早于检查日期 2026-11-28"),
            prepareAnswer(check, AnswerChoice.Fail, "2026-11-01", "", "", listOf(), day),
        )
        assertEquals(
            AnswerCheck.Ready("fail", AnswerInput(), true),
            prepareAnswer(check, AnswerChoice.Fail, "", "", "", listOf(), day),
            "a deadline may follow on the hazards screen",
        )
    }

    @Test
    fun `a measured value out of bounds fails like core judges it, and only plain numbers pass`() {
        val distance = item("IT-026", kind = "measure", min = 30.0, unit = "m")
        assertTrue(predictsFailure(distance, AnswerChoice.Measured("29.9")))
        assertFalse(predictsFailure(distance, AnswerChoice.Measured("30")), "bounds are inclusive")
        assertFalse(predictsFailure(distance, AnswerChoice.Measured("abc")))
        val low = prepareAnswer(distance, AnswerChoice.Measured(" 25 "), "2026-12-28", "", "", listOf(), day)
        assertEquals(AnswerCheck.Ready("25", AnswerInput(deadline = "2026-12-28"), true), low)
        val ok = prepareAnswer(distance, AnswerChoice.Measured("1e2"), "2026-12-28", "", "", listOf(), day)
        assertEquals(AnswerCheck.Ready("1e2", AnswerInput(), false), ok)
        for (bad in listOf("NaN", "Infinity", "30d", "0x1E", "3,5")) {
            assertEquals(AnswerCheck.Refused("“$bad”不是数值：请填写实测值（m）"), prepareAnswer(distance, AnswerChoice.Measured(bad), "", "", "", listOf(), day), bad)
        }
        assertEquals(AnswerCheck.Refused("请填写实测值（m），或选择“不适用”"), prepareAnswer(distance, AnswerChoice.Measured(" "), "", "", "", listOf(), day))
        assertEquals(AnswerCheck.Refused("此项不是合格/不合格判断项"), prepareAnswer(distance, AnswerChoice.Pass, "", "", "", listOf(), day))
    }

    @Test
    fun `a text item needs text`() {
        val text = item("IT-053", kind = "text")
        assertEquals(AnswerCheck.Refused("请填写记录内容，或选择“不适用”"), prepareAnswer(text, AnswerChoice.Written("  "), "", "", "", listOf(), day))
        assertEquals(AnswerCheck.Ready("现场有 3 名作业人员", AnswerInput(), false), prepareAnswer(text, AnswerChoice.Written(" 现场有 3 名作业人员 "), "", "", "", listOf(), day))
        assertEquals(AnswerKind.TEXT, answerKind(item("X", kind = "photo")), "an unknown kind is answered as text")
    }

    @Test
    fun `a failed item is re-answered unchanged to set its deadline`() {
        assertEquals("25", reanswerInput(answer("IT-026", "fail", value = "25")))
        assertEquals("fail", reanswerInput(answer("IT-003", "fail")))
        assertNull(reanswerInput(answer("IT-001", "pass")))
        val rows = hazardRows(
            record(
                answers = listOf(answer("IT-003", "fail"), answer("IT-026", "fail", value = "25")),
                hazards = listOf(hazard("IT-003", null), hazard("IT-026", "2026-12-28")),
            ),
        )
        assertEquals(listOf(true, false), rows.map { it.missingDeadline })
        assertEquals(listOf("fail", "25"), rows.map { it.reanswer })
        assertEquals("重大", rows.first().hazardClass)
        val escalated = hazardRows(record(kind = "reinspection", hazards = listOf(hazard("IT-003", null, measure = "移送处罚"))))
        assertFalse(escalated.single().missingDeadline, "a re-inspection may follow up with a measure instead")
    }

    @Test
    fun `an answer is summarised with its value, author and time`() {
        assertEquals("不合格 · 实测 25 m · 张伟 2026-11-28 09:30", answerSummary(answer("IT-026", "fail", value = "25"), "m"))
        assertEquals("合格 · 张伟 2026-11-28 09:30 · 由李娜确定", answerSummary(answer("IT-001", "pass", resolvedBy = "李娜"), null))
    }
}
