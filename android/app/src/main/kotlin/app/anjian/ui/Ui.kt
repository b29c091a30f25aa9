package app.anjian.ui

import android.content.Context
import android.graphics.Color
import android.graphics.Typeface
import android.graphics.drawable.GradientDrawable
import android.text.Editable
import android.text.InputType
import android.text.TextWatcher
import android.util.TypedValue
import android.view.Gravity
import android.view.View
import android.view.ViewGroup
import android.widget.Button
import android.widget.EditText
import android.widget.HorizontalScrollView
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView
import app.anjian.logic.Tone
import kotlin.math.roundToInt

// Views are built in code: without aapt2 there are no layout resources, and a handful of
// builders keep every screen's touch targets and type sizes the same.

object Palette {
    val TEXT = Color.rgb(0x21, 0x21, 0x21)
    val MUTED = Color.rgb(0x61, 0x61, 0x61)
    val GOOD = Color.rgb(0x2E, 0x7D, 0x32)
    val WARNING = Color.rgb(0xC7, 0x6A, 0x00)
    val ERROR = Color.rgb(0xC6, 0x28, 0x28)
    val ACCENT = Color.rgb(0x15, 0x65, 0xC0)
    val PANEL = Color.rgb(0xF3, 0xF5, 0xF8)
    val SELECTED = Color.rgb(0xBB, 0xDE, 0xFB)

    fun of(tone: Tone): Int = when (tone) {
        Tone.GOOD -> GOOD
        Tone.INFO -> MUTED
        Tone.WARNING -> WARNING
        Tone.ERROR -> ERROR
    }
}

/** Inspectors work with gloves on and tablets at arm's length: nothing tappable under 56dp. */
const val TOUCH_DP = 56

fun Context.dp(value: Int): Int = (value * resources.displayMetrics.density).roundToInt()

fun Context.column(padding: Int = 16, block: LinearLayout.() -> Unit): LinearLayout =
    LinearLayout(this).apply {
        orientation = LinearLayout.VERTICAL
        setPadding(dp(padding), dp(padding), dp(padding), dp(padding))
        block()
    }

fun Context.scrolling(content: View): ScrollView = ScrollView(this).apply {
    isFillViewport = true
    addView(content)
}

private fun LinearLayout.gap(): LinearLayout.LayoutParams =
    LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT).apply {
        topMargin = context.dp(6)
    }

/** A row of buttons sharing the width; scrolls sideways when they do not fit. */
fun LinearLayout.buttonRow(block: LinearLayout.() -> Unit): LinearLayout {
    val row = LinearLayout(context).apply {
        orientation = LinearLayout.HORIZONTAL
        block()
    }
    val scroller = HorizontalScrollView(context).apply {
        isFillViewport = true
        addView(row, ViewGroup.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT))
    }
    addView(scroller, gap())
    return row
}

fun LinearLayout.text(value: CharSequence, sizeSp: Float = 18f, color: Int = Palette.TEXT, bold: Boolean = false): TextView {
    val view = TextView(context).apply {
        text = value
        setTextSize(TypedValue.COMPLEX_UNIT_SP, sizeSp)
        setTextColor(color)
        if (bold) typeface = Typeface.DEFAULT_BOLD
        setLineSpacing(0f, 1.15f)
    }
    addView(view, gap())
    return view
}

fun LinearLayout.heading(value: CharSequence): TextView = text(value, sizeSp = 22f, bold = true)

fun LinearLayout.message(value: CharSequence, color: Int): TextView = text(value, sizeSp = 18f, color = color)

/** Guidance, legal basis and the like: a shaded block set apart from what is tapped. */
fun LinearLayout.panel(title: String, body: String): TextView {
    val view = text("$title\n$body", sizeSp = 16f, color = Palette.TEXT)
    view.setPadding(context.dp(12), context.dp(10), context.dp(12), context.dp(10))
    view.background = GradientDrawable().apply {
        setColor(Palette.PANEL)
        cornerRadius = context.dp(6).toFloat()
    }
    return view
}

fun LinearLayout.button(label: String, weight: Float = 0f, onClick: () -> Unit): Button {
    val view = Button(context).apply {
        text = label
        isAllCaps = false
        setTextSize(TypedValue.COMPLEX_UNIT_SP, 18f)
        minHeight = context.dp(TOUCH_DP)
        minimumHeight = context.dp(TOUCH_DP)
        minWidth = context.dp(96)
        setOnClickListener { onClick() }
    }
    val params = if (orientation == LinearLayout.HORIZONTAL) {
        LinearLayout.LayoutParams(if (weight > 0f) 0 else ViewGroup.LayoutParams.WRAP_CONTENT, ViewGroup.LayoutParams.WRAP_CONTENT, weight).apply {
            marginEnd = context.dp(8)
        }
    } else {
        gap()
    }
    addView(view, params)
    return view
}

/** Marks the chosen one of a group of buttons (pass / fail / not applicable, paper widths). */
fun Button.chosen(on: Boolean) {
    if (on) {
        background = GradientDrawable().apply {
            setColor(Palette.SELECTED)
            setStroke(context.dp(2), Palette.ACCENT)
            cornerRadius = context.dp(4).toFloat()
        }
        setTypeface(typeface, Typeface.BOLD)
    }
}

/** A tappable list line: a title and a second line, the whole row one touch target. */
fun LinearLayout.listRow(title: String, detail: String?, color: Int = Palette.TEXT, onClick: (() -> Unit)?): LinearLayout {
    val row = LinearLayout(context).apply {
        orientation = LinearLayout.VERTICAL
        gravity = Gravity.CENTER_VERTICAL
        minimumHeight = context.dp(TOUCH_DP + 8)
        setPadding(context.dp(12), context.dp(8), context.dp(12), context.dp(8))
        addView(TextView(context).apply {
            text = title
            setTextSize(TypedValue.COMPLEX_UNIT_SP, 19f)
            setTextColor(color)
        })
        if (detail != null) {
            addView(TextView(context).apply {
                text = detail
                setTextSize(TypedValue.COMPLEX_UNIT_SP, 15f)
                setTextColor(Palette.MUTED)
            })
        }
        if (onClick != null) {
            val outValue = TypedValue()
            context.theme.resolveAttribute(android.R.attr.selectableItemBackground, outValue, true)
            setBackgroundResource(outValue.resourceId)
            isClickable = true
            setOnClickListener { onClick() }
        }
    }
    addView(row, gap())
    return row
}

/**
 * A text field whose content lives in the screen's state: `onChange` sees every edit, so a
 * rebuilt view starts from what was typed.
 */
fun LinearLayout.field(
    hint: String,
    value: String,
    type: Int = InputType.TYPE_CLASS_TEXT,
    lines: Int = 1,
    onChange: (String) -> Unit,
): EditText {
    val view = EditText(context).apply {
        this.hint = hint
        setText(value)
        inputType = if (lines > 1) type or InputType.TYPE_TEXT_FLAG_MULTI_LINE else type
        setTextSize(TypedValue.COMPLEX_UNIT_SP, 18f)
        minHeight = context.dp(TOUCH_DP)
        if (lines > 1) {
            minLines = lines
            gravity = Gravity.TOP or Gravity.START
        } else {
            setSingleLine(true)
        }
        addTextChangedListener(object : TextWatcher {
            override fun beforeTextChanged(s: CharSequence?, start: Int, count: Int, after: Int) {}

            override fun onTextChanged(s: CharSequence?, start: Int, before: Int, count: Int) {}

            override fun afterTextChanged(s: Editable?) = onChange(s?.toString() ?: "")
        })
    }
    addView(view, gap())
    return view
}

fun LinearLayout.divider() {
    val line = View(context).apply { setBackgroundColor(Color.rgb(0xDD, 0xDD, 0xDD)) }
    addView(line, LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, context.dp(1)).apply {
        topMargin = context.dp(10)
        bottomMargin = context.dp(4)
    })
}
