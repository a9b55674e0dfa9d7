package dev.biometry.testing;

import static org.bytedeco.opencv.global.opencv_imgproc.INTER_AREA;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;

import dev.biometry.face.FaceCrops;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.OpenCVFrameConverter;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;

/** Videos and shots sets made from pictures, for tests (MPEG-4 part 2: the bundled FFmpeg has no x264). */
public final class TestMedia {

    private TestMedia() {}

    /** An MP4 (MPEG-4 part 2) of {@code seconds} at {@code fps}, cycling through {@code pictures} scaled to width x height. */
    public static byte[] mp4(List<Mat> pictures, int width, int height, int fps, double seconds) throws IOException {
        Path file = Files.createTempFile("test-video", ".mp4");
        try {
            try (FFmpegFrameRecorder recorder = new FFmpegFrameRecorder(file.toFile(), width, height, 0);
                    OpenCVFrameConverter.ToMat converter = new OpenCVFrameConverter.ToMat();
                    Mat scaled = new Mat()) {
                recorder.setFormat("mp4");
                recorder.setVideoCodec(avcodec.AV_CODEC_ID_MPEG4);
                recorder.setPixelFormat(avutil.AV_PIX_FMT_YUV420P);
                recorder.setFrameRate(fps);
                recorder.setVideoQuality(2);
                recorder.start();
                int frames = (int) Math.round(seconds * fps);
                for (int i = 0; i < frames; i++) {
                    resize(pictures.get(i % pictures.size()), scaled, new Size(width, height), 0, 0, INTER_AREA);
                    Frame frame = converter.convert(scaled);
                    recorder.record(frame);
                }
                recorder.stop();
            }
            return Files.readAllBytes(file);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** A ZIP of the pictures as JPEG frames named 1.jpg, 2.jpg, ... */
    public static byte[] shotsSet(List<Mat> pictures) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (int i = 0; i < pictures.size(); i++) {
                zip.putNextEntry(new ZipEntry((i + 1) + ".jpg"));
                zip.write(FaceCrops.jpeg(pictures.get(i)));
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }
}
