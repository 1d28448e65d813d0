// ClusterInfo answers kafka.sh's "cluster controller" and "cluster leader"
// through Kafka's own Admin client. The jars kafka.sh fetches hold the client
// but not Kafka's command-line tools, so the script runs this file in Java's
// source-file mode: java -cp 'lib/*' ClusterInfo.java BOOTSTRAP controller
// | leader TOPIC PARTITION | create TOPIC PARTITIONS. controller and leader
// print one node id (-1: no leader); create makes a topic with the
// cluster's default replication factor.

import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;

public final class ClusterInfo {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            usage();
        }
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15000);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        try (Admin admin = Admin.create(props)) {
            run(admin, args);
        } catch (ExecutionException e) {
            System.err.println(args[1] + ": " + e.getCause().getMessage());
            System.exit(1);
        }
    }

    private static void run(Admin admin, String[] args) throws Exception {
        switch (args[1]) {
            case "controller" -> System.out.println(
                    admin.describeMetadataQuorum().quorumInfo().get(20, TimeUnit.SECONDS).leaderId());
            case "leader" -> {
                if (args.length != 4) {
                    usage();
                }
                int partition = Integer.parseInt(args[3]);
                TopicDescription d = admin.describeTopics(List.of(args[2])).allTopicNames()
                        .get(20, TimeUnit.SECONDS).get(args[2]);
                for (TopicPartitionInfo p : d.partitions()) {
                    if (p.partition() == partition) {
                        System.out.println(p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id());
                        return;
                    }
                }
                System.err.println("topic " + args[2] + " has no partition " + partition);
                System.exit(1);
            }
            case "create" -> {
                if (args.length != 4) {
                    usage();
                }
                NewTopic t = new NewTopic(args[2], Optional.of(Integer.parseInt(args[3])), Optional.empty());
                admin.createTopics(List.of(t)).all().get(20, TimeUnit.SECONDS);
            }
            default -> usage();
        }
    }

    private static void usage() {
        System.err.println("usage: ClusterInfo BOOTSTRAP controller | leader TOPIC PARTITION | create TOPIC PARTITIONS");
        System.exit(2);
    }
}
