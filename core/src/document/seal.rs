//! The agency's seal image for electronic (PDF) copies: a PNG, checked when it is configured and
//! decoded to RGBA when a PDF is made.

use crate::error::{Error, Result};

/// A seal larger than this is not a seal scan but a mistake.
const MAX_SEAL_BYTES: usize = 4 * 1024 * 1024;
const MAX_SIDE: u32 = 2000;

/// A decoded seal: RGBA8 pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealImage {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// Decodes and checks a seal PNG.
pub fn decode(png_bytes: &[u8]) -> Result<SealImage> {
    let invalid = |problem: String| Error::InvalidInput(format!("印章图片无效：{problem}"));
    if png_bytes.len() > MAX_SEAL_BYTES {
        return Err(invalid(format!("{} 字节，超过 4 MB", png_bytes.len())));
    }
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder
        .read_info()
        .map_err(|e| invalid(format!("不是可读的 PNG（{e}）")))?;
    let (width, height) = (reader.info().width, reader.info().height);
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(invalid(format!(
            "尺寸 {width}×{height} 应在 1 到 {MAX_SIDE} 像素之间"
        )));
    }
    let mut buffer = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let frame = reader
        .next_frame(&mut buffer)
        .map_err(|e| invalid(format!("解码失败（{e}）")))?;
    let pixels = &buffer[..frame.buffer_size()];
    let rgba = match frame.color_type {
        png::ColorType::Rgba => pixels.to_vec(),
        png::ColorType::Rgb => pixels
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::GrayscaleAlpha => pixels
            .chunks(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        png::ColorType::Grayscale => pixels.iter().flat_map(|&g| [g, g, g, 255]).collect(),
        png::ColorType::Indexed => return Err(invalid("调色板图片未能展开".into())),
    };
    Ok(SealImage {
        width,
        height,
        rgba,
    })
}

#[cfg(test)]
pub(crate) fn test_png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("header");
        let pixels: Vec<u8> = (0..width * height)
            .flat_map(|i| {
                if i % 3 == 0 {
                    [200, 0, 0, 255]
                } else {
                    [0, 0, 0, 0]
                }
            })
            .collect();
        writer.write_image_data(&pixels).expect("data");
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_png_decodes_to_rgba_and_garbage_is_refused() {
        let seal = decode(&test_png(40, 30)).unwrap();
        assert_eq!((seal.width, seal.height), (40, 30));
        assert_eq!(seal.rgba.len(), 40 * 30 * 4);
        assert_eq!(&seal.rgba[..4], &[200, 0, 0, 255]);
        assert!(
            decode(b"not a png")
                .unwrap_err()
                .to_string()
                .contains("PNG")
        );
    }
}
